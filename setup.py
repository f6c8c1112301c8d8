"""Install nengo_lmu; the pins that matter are explained in setup.cfg."""

from setuptools import setup

setup()
