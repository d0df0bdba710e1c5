"""The store-and-forward relay: the box's signed link to the commune's upstream."""
