"""Robot bridges' ROS-free parts: what each robot does with a Command, within hard safety limits.

- naoqi.py:   NAO through NAOqi directly (the `qi` package), reconnecting when the robot drops off.
- virtual_nao.py: a local libqi service directory with NAOqi-named services that record calls (tests, demos).
- driver2.py: NAO through naoqi_driver2 topics (the node publishes what this module plans).
- generic.py: any ROS 2 robot through plain topics (speech, LED colour, gaze point, velocity).
- sim.py:     a simulated robot that reports speaking/idle.
- limits.py:  speed and joint limits, head-gaze geometry, speech-duration estimates.
The nodes (attune.nodes.nao_bridge_node, generic_bridge_node, sim_robot_node) own the ROS side.
"""
