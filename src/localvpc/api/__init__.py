"""The AWS-compatible HTTP endpoint: generic protocols (``protocols/``), one provider module per
service (``providers/``), the server and its state. Imports store, dataplane and model."""
