"""Affect of people facing the robot (no rclpy): the ASD emotion model's inputs and runner, per-child
calibration, smoothing, and the name-call response protocol with its session log."""
