"""The IT-system register and the CISO's suspension orders."""
