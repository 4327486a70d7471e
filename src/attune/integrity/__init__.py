"""Input integrity: is an image stream a live camera? (ROS-free core of stream_guard_node). Is an
enrolment photo retouched?

content.py   per-frame content evidence (perceptual hash, sensor-noise residual, JPEG blockiness)
evidence.py  per-stream window: timing, metadata, publisher and content evidence into features
model.py     the shipped logistic model: live-camera score and its reasons
simulate.py  camera-like and attack streams made from real recordings (evaluation and training)
enrolment.py the stream guard over the frames `attune people enroll --camera/--bag` reads

face_regions.py      skin, eyes, jaw and face oval from FaceMesh landmarks
retouch_ops.py       retouching operations at three strengths (training and evaluation data)
retouch_data.py      original and retouched copies of a faces-kind folder, reduced to features
retouch_features.py  texture, resampling, geometry and colour evidence of one photo
retouch_training.py  the torch MLP, person-wise folds, ONNX export (needs torch)
retouch_check.py     the shipped retouch model in onnxruntime: score, verdict, reasons
retouch_metrics.py   D-EER, tpr at a false-alarm rate, per-operation reports
retouch_visibility.py  how visible an edit is (colour difference to the original on the face)
photo_screening.py   warn on (or refuse) likely retouched enrolment photos
"""
