"""Real dancers in: a pose and person-mask front end for any dance video (``estimator``), the
COCO-17 skeleton AIST++ uses (``skeleton``), tracking, smoothing and the pose store."""
