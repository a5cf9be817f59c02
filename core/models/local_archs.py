"""Small public architectures for 28x28 grey images (Fashion-MNIST), of clearly different cost."""
from __future__ import annotations

from collections.abc import Callable

from torch import nn


def lenet5(num_classes: int = 10) -> nn.Module:
    """LeCun et al. 1998, with ReLU and max-pooling: ~0.4 MMAC, ~62k parameters."""
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))


class BasicBlock(nn.Module):
    """He et al. 2016 basic residual block; each call site has its own ReLU (PT2E-friendly)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu2 = nn.ReLU()
        self.shortcut = nn.Identity() if stride == 1 and cin == cout else nn.Sequential(
            nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu1(self.bn1(self.conv1(x)))
        return self.relu2(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet8(nn.Module):
    """A narrow CIFAR-style ResNet (3 stages of one basic block, widths 16-32-64): ~6 MMAC."""

    def __init__(self, num_classes: int = 10, widths: tuple[int, int, int] = (16, 32, 64)) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        self.layer1 = BasicBlock(widths[0], widths[0], 1)
        self.layer2 = BasicBlock(widths[0], widths[1], 2)
        self.layer3 = BasicBlock(widths[1], widths[2], 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[2], num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(self.pool(x).flatten(1))


class InvertedResidual(nn.Module):
    """Sandler et al. 2018 MobileNetV2 block: expand 1x1 -> depthwise 3x3 -> project 1x1."""

    def __init__(self, cin: int, cout: int, stride: int, expand: int) -> None:
        super().__init__()
        hidden = cin * expand
        self.use_residual = stride == 1 and cin == cout
        self.block = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(),
            nn.Conv2d(hidden, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.block(x)
        return x + out if self.use_residual else out


class MobileNetV2Tiny(nn.Module):
    """A MobileNetV2-style net for 28x28 input: stride-2 stem, depthwise-separable blocks."""

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        # (expand, out channels, repeats, first stride)
        settings = [(1, 16, 1, 1), (4, 24, 2, 1), (4, 32, 2, 2), (4, 64, 2, 1)]
        layers: list[nn.Module] = [nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6()]
        cin = 16
        for expand, cout, repeats, stride in settings:
            for i in range(repeats):
                layers.append(InvertedResidual(cin, cout, stride if i == 0 else 1, expand))
                cin = cout
        layers += [nn.Conv2d(cin, 128, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU6()]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(128, num_classes)

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)).flatten(1))


ARCHITECTURES: dict[str, tuple[Callable[[], nn.Module], str]] = {
    "lenet5": (lenet5, "LeNet-5 style CNN (LeCun 1998), the cheapest"),
    "resnet8": (ResNet8, "narrow ResNet-8 (He 2016), widths 16-32-64"),
    "mobilenetv2-tiny": (MobileNetV2Tiny, "MobileNetV2-style inverted residuals (Sandler 2018)"),
}
