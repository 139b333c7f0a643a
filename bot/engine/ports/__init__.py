"""The engine's ports: small protocols and the plain values that cross them."""
