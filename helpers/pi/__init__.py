"""Les scripts copiés tels quels sur la Raspberry Pi par ``bundle`` : ``classer.py`` et
``detecter.py``, et les modèles de leur README.

Ils sont autonomes (numpy, Pillow, LiteRT ou tflite_runtime, et picamera2 pour la caméra) :
ils n'importent rien du reste du paquet. Des tests de parité vérifient qu'ils préparent les
images et décodent les sorties comme ``helpers``.
"""
