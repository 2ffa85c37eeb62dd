"""Models: CNN variants built from layers (see DESIGN.md for the catalogue)."""

from models.gcnn import GCNN
from models.gcnn import P4CNN
from models.gcnn import P4MCNN
from models.gcnn import Z2CNN
from models.cnn import CNN
from models.cnn import MLP
from models.cnn import ResidualBlock
from models.cnn import ResNet
from models.cnn import ResNet8
from models.cnn import ResNet14
from models.cnn import ResNet20
from models.hnet import HNet  # importing registers 'hnet', 'hnet_deep'
from models.registry import build_model
from models.registry import model_options
from models.registry import MODELS
from models.registry import register_model

__all__ = ['GCNN', 'P4CNN', 'P4MCNN', 'Z2CNN']
__all__ += [
    'build_model', 'CNN', 'MLP', 'model_options', 'MODELS', 'register_model',
    'ResidualBlock', 'ResNet', 'ResNet8', 'ResNet14', 'ResNet20',
]
__all__ += ['HNet']
