"""Stand-in for cloudevents (no Debian package): imported by kserve.utils for the model server's
CloudEvent replies, never called by the gRPC client."""
