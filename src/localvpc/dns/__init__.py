"""The DNS layer: each VPC's Route 53 Resolver (``resolver.py``), a real DNS server for it
(``server.py``) and the health checkers that drive failover records (``health.py``)."""
