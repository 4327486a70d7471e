"""Multi-object tracking with stable ids (no rclpy)."""
from attune.tracking.tracker import Match, MultiObjectTracker, Track, TrackerOptions

__all__ = ['Match', 'MultiObjectTracker', 'Track', 'TrackerOptions']
