"""Contract fakes of the social networks: real HTTP servers on loopback, built from the API
descriptions in ../shared/data/apis and docs/networks.md. The read side used by listening
tests lives in tests/listening/fakes; the write side (publishing) lives here, so benchmarks
and fault scripts can start them too."""
