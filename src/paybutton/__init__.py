"""paybutton: a self-hosted trade system."""
