"""The reference upstream: the commune's inbox and the district's fleet registry.

Shares only `appliance.domain` (status lifecycle, catalog, device protocol) with the box.
"""
