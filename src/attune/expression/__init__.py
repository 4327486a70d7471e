"""Facial action units, expression recognition and the continual learner (no rclpy)."""
