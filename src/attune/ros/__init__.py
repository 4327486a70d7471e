"""Everything that touches rclpy: message conversion, QoS, logging, parameters, bag replay/record.

The core (imaging/, face/, tracking/, ...) never imports this package.
"""
