"""Input integrity: is an image stream a live camera? (ROS-free core of stream_guard_node).

content.py   per-frame content evidence (perceptual hash, sensor-noise residual, JPEG blockiness)
evidence.py  per-stream window: timing, metadata, publisher and content evidence into features
model.py     the shipped logistic model: live-camera score and its reasons
simulate.py  camera-like and attack streams made from real recordings (evaluation and training)
"""
