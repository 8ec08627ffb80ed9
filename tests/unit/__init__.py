"""Unit tier: core and dashboard code in process, no AppTest, no other process, no server (marker `unit`)."""
