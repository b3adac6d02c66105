"""The HTTP shell: translates requests into calls on the verification loop."""
