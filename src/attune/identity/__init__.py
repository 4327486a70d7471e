"""Known people: face embeddings (dlib's ResNet descriptor), protected templates (a keyed, cancelable
transform), an encrypted people database, identification and per-track re-identification. ROS-free;
the identity node and `attune people` are thin layers over it (docs/identity.md)."""
