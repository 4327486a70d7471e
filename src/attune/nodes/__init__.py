"""One thin rclpy node per module. Each module has `main()` (its executable) and `NODE_CLASS`."""
