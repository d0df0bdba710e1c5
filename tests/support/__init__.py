"""Real parts the tests share: a private PostgreSQL server, a running upstream, fakes of time."""
