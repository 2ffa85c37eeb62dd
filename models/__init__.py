"""Models: CNN variants built from layers, registered by name.

:data:`MODELS` (``models/registry.py``) maps each name a config may give as
``config.model.name`` to a linen Module class or a ``functools.partial`` of
one: 'cnn', 'mlp', 'resnet' (``models/cnn.py``), 'z2cnn', 'p4cnn', 'p4mcnn'
(``models/gcnn.py``), 'hnet', 'hnet_deep' (``models/hnet.py``), 'steerable_cnn' (any group by
name: ``group='C12'``) and its named sizes 'c8cnn', 'c16cnn', 'd16cnn',
'd16c16cnn', 'so2cnn', 'o2cnn' (``models/steerable.py``),
'unet' (``models/unet.py``), 'steerable_unet' (``models/steerable_unet.py``),
'antialiased_resnet' (``models/antialias.py``). A model registers where it is defined, with ``@register_model('name')`` on its class
or one ``register_model('name', factory)`` call for a named size; importing
this package imports every module in it (:mod:`pkgutil`), so a new model file
needs no edit here and :func:`build_model` sees them all.
"""

import importlib as _importlib
import pkgutil as _pkgutil

from models.cnn import CNN
from models.cnn import MLP
from models.cnn import ResidualBlock
from models.cnn import ResNet
from models.cnn import ResNet8
from models.cnn import ResNet14
from models.cnn import ResNet20
from models.gcnn import GCNN
from models.gcnn import P4CNN
from models.gcnn import P4MCNN
from models.gcnn import Z2CNN
from models.hnet import HNet
from models.registry import build_model
from models.registry import model_options
from models.registry import MODELS
from models.registry import register_model
from models.antialias import antialias
from models.antialias import Antialiased
from models.antialias import AntialiasedResNet
from models.antialias import find_strided_ops
from models.steerable import SteerableCNN
from models.steerable_unet import SteerableUNet
from models.unet import UNet

# Every model module registers its models when imported.
for _module in _pkgutil.iter_modules(__path__):
  _importlib.import_module(f'{__name__}.{_module.name}')

__all__ = [
    'build_model', 'CNN', 'GCNN', 'HNet', 'MLP', 'model_options', 'MODELS',
    'P4CNN', 'P4MCNN', 'register_model', 'ResidualBlock', 'ResNet', 'ResNet8',
    'ResNet14', 'ResNet20', 'Z2CNN', 'SteerableCNN', 'UNet', 'antialias',
    'Antialiased', 'AntialiasedResNet', 'find_strided_ops',
]
