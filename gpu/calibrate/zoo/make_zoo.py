#!/usr/bin/env python3
"""Writes the zoo's layer descriptions (gpu/calibrate/zoo/*.json) from the models' published
architectures. Each file is the model's forward pass at inference as a flat list of operations
on named tensors, in execution order; batch normalisation is folded into the convolutions (as
inference engines do), so it adds parameters but no operation. The C++ reader
(gpu/calibrate/zoo.h) infers every shape and checks it; tests compare the parameter and
multiply-accumulate counts with the published ones.

Sources:
  resnet50, vgg16, mobilenet_v3_large: torchvision.models (the configurations in
    torchvision/models/resnet.py, vgg.py, mobilenetv3.py), 224x224 input.
  bert_base: Devlin et al. 2019, bert-base-uncased (12 layers, hidden 768, 12 heads, FFN
    3072, vocabulary 30522, 512 positions), sequence length 128 by default.
Run: python3 gpu/calibrate/zoo/make_zoo.py  (rewrites the JSON files beside it)
"""
import json
import os


class Net:
    def __init__(self):
        self.ops = []

    def op(self, kind, **kw):
        self.ops.append({"op": kind, **kw})


def conv(net, out, k, s=1, groups=1, act="none", bn=True, bias=False, **kw):
    net.op("conv", out=out, kernel=k, stride=s, pad=(k - 1) // 2, groups=groups,
           act=act, bias=bias, bn=bn, **kw)


def resnet50():
    net = Net()
    conv(net, 64, 7, 2, act="relu")
    net.op("maxpool", kernel=3, stride=2, pad=1)
    in_c = 64
    for stage, (width, blocks, stride) in enumerate([(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)]):
        for b in range(blocks):
            s = stride if b == 0 else 1
            out_c = width * 4
            net.op("save", name="identity")
            if b == 0 and (s != 1 or in_c != out_c):
                conv(net, out_c, 1, s, input="identity", output="identity")
            conv(net, width, 1, 1, act="relu")
            conv(net, width, 3, s, act="relu")  # torchvision v1.5: stride on the 3x3
            conv(net, out_c, 1, 1)
            net.op("add", to="identity", act="relu")
            in_c = out_c
    net.op("avgpool")
    net.op("linear", out=1000, bias=True)
    return {"name": "resnet50", "input": {"channels": 3, "height": 224, "width": 224},
            "published": {"params": 25557032, "macs_per_sample": 4.09e9,
                          "source": "torchvision ResNet50_Weights.IMAGENET1K_V1: 25,557,032 parameters, 4.09 GFLOPS (multiply-adds)"},
            "ops": net.ops}


def vgg16():
    net = Net()
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    for v in cfg:
        if v == "M":
            net.op("maxpool", kernel=2, stride=2, pad=0)
        else:
            conv(net, v, 3, 1, act="relu", bn=False, bias=True)
    # AdaptiveAvgPool2d((7, 7)) is the identity at 224x224 input.
    net.op("flatten")
    net.op("linear", out=4096, bias=True, act="relu")
    net.op("linear", out=4096, bias=True, act="relu")
    net.op("linear", out=1000, bias=True)
    return {"name": "vgg16", "input": {"channels": 3, "height": 224, "width": 224},
            "published": {"params": 138357544, "macs_per_sample": 15.47e9,
                          "source": "torchvision VGG16_Weights.IMAGENET1K_V1: 138,357,544 parameters, 15.47 GFLOPS (multiply-adds)"},
            "ops": net.ops}


def make_divisible(v, d=8):
    new_v = max(d, int(v + d / 2) // d * d)
    if new_v < 0.9 * v:
        new_v += d
    return new_v


def mobilenet_v3_large():
    net = Net()
    conv(net, 16, 3, 2, act="hswish")
    cfg = [  # in, kernel, expanded, out, se, activation, stride
        (16, 3, 16, 16, False, "relu", 1), (16, 3, 64, 24, False, "relu", 2),
        (24, 3, 72, 24, False, "relu", 1), (24, 5, 72, 40, True, "relu", 2),
        (40, 5, 120, 40, True, "relu", 1), (40, 5, 120, 40, True, "relu", 1),
        (40, 3, 240, 80, False, "hswish", 2), (80, 3, 200, 80, False, "hswish", 1),
        (80, 3, 184, 80, False, "hswish", 1), (80, 3, 184, 80, False, "hswish", 1),
        (80, 3, 480, 112, True, "hswish", 1), (112, 3, 672, 112, True, "hswish", 1),
        (112, 5, 672, 160, True, "hswish", 2), (160, 5, 960, 160, True, "hswish", 1),
        (160, 5, 960, 160, True, "hswish", 1)]
    for in_c, k, exp, out_c, se, act, s in cfg:
        residual = s == 1 and in_c == out_c
        if residual:
            net.op("save", name="identity")
        if exp != in_c:
            conv(net, exp, 1, 1, act=act)
        conv(net, exp, k, s, groups=exp, act=act)
        if se:
            net.op("save", name="features")
            net.op("avgpool")
            squeeze = make_divisible(exp // 4, 8)
            conv(net, squeeze, 1, 1, act="relu", bn=False, bias=True)
            conv(net, exp, 1, 1, act="hsigmoid", bn=False, bias=True)
            net.op("scale", to="features")
        conv(net, out_c, 1, 1)
        if residual:
            net.op("add", to="identity")
    conv(net, 960, 1, 1, act="hswish")
    net.op("avgpool")
    net.op("linear", out=1280, bias=True, act="hswish")
    net.op("linear", out=1000, bias=True)
    return {"name": "mobilenet_v3_large", "input": {"channels": 3, "height": 224, "width": 224},
            "published": {"params": 5483032, "macs_per_sample": 0.217e9,
                          "source": "torchvision MobileNet_V3_Large_Weights.IMAGENET1K_V1: 5,483,032 parameters, 0.22 GFLOPS (multiply-adds); Howard et al. 2019 Table 3: 219 M multiply-adds"},
            "ops": net.ops}


def bert_base():
    net = Net()
    hidden, heads, ffn = 768, 12, 3072
    net.op("embedding", tables=[30522, 512, 2], dim=hidden)
    net.op("layernorm")
    for _ in range(12):
        net.op("save", name="residual")
        net.op("linear", out=3 * hidden, bias=True)  # Q, K, V in one product
        net.op("attention", heads=heads)
        net.op("linear", out=hidden, bias=True)
        net.op("add", to="residual")
        net.op("layernorm")
        net.op("save", name="residual")
        net.op("linear", out=ffn, bias=True, act="gelu")
        net.op("linear", out=hidden, bias=True)
        net.op("add", to="residual")
        net.op("layernorm")
    net.op("first_token")
    net.op("linear", out=hidden, bias=True, act="tanh")  # the pooler
    # 11.2 G multiply-adds at 128 tokens: 12 x 128 x (4 x 768^2 + 2 x 768 x 3072) for the
    # products with weights, plus 12 x 2 x 128^2 x 768 for attention.
    return {"name": "bert_base", "input": {"sequence": 128},
            "published": {"params": 109482240, "macs_per_sample": 11.2e9,
                          "source": "bert-base-uncased (Devlin et al. 2019): 109,482,240 parameters with the pooler; multiply-adds at 128 tokens counted from the architecture"},
            "ops": net.ops}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for make in (resnet50, vgg16, mobilenet_v3_large, bert_base):
        model = make()
        model = {"name": model["name"],
                 "generated_by": "gpu/calibrate/zoo/make_zoo.py",
                 "input": model["input"], "published": model["published"], "ops": model["ops"]}
        path = os.path.join(here, model["name"] + ".json")
        with open(path, "w") as f:
            f.write("{\n")
            keys = list(model)
            for i, key in enumerate(keys):
                if key == "ops":
                    f.write('  "ops": [\n')
                    f.write(",\n".join("    " + json.dumps(o) for o in model["ops"]))
                    f.write("\n  ]")
                else:
                    f.write(f'  {json.dumps(key)}: {json.dumps(model[key])}')
                f.write(",\n" if i + 1 < len(keys) else "\n")
            f.write("}\n")
        print(path, len(model["ops"]), "ops")


if __name__ == "__main__":
    main()
