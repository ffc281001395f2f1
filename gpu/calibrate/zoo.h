// ZooModel: one model of the calibration zoo, as the sequence of layers its inference runs.
//
// A zoo file (gpu/calibrate/zoo/<model>.json, written by make_zoo.py) lists the forward pass
// as operations on named tensors in execution order. Reading it infers every tensor's shape
// per sample and rejects a file whose shapes do not fit together, naming the JSON path; it
// also counts parameters and multiply-accumulates, which tests compare with the published
// figures. Shapes are NHWC: a sequence of tokens is height = tokens, width = 1, channels =
// features. Batch-normalisation layers are folded into their convolutions, as inference
// engines do: they count as parameters but run no kernel.
//
// The CUDA runner (gpu/calibrate/cuda/) executes these operations with cuDNN, cuBLAS and
// its own kernels; nothing here needs a GPU.
#ifndef GPUSLICE_GPU_CALIBRATE_ZOO_H_
#define GPUSLICE_GPU_CALIBRATE_ZOO_H_

#include <string>
#include <vector>

namespace gpuslice {

struct TensorShape {  // per sample: channels x height x width
  long c = 1, h = 1, w = 1;
  long elements() const { return c * h * w; }
  bool operator==(const TensorShape&) const = default;
  std::string ToString() const;
};

enum class ZooOpKind {
  kConv,        // 2-D convolution (groups: depthwise when groups == channels), bias, activation
  kMaxPool,     //
  kAvgPool,     // global average pool to 1x1
  kFlatten,     // c x h x w -> (c*h*w) x 1 x 1
  kLinear,      // per position: features -> out, bias, activation
  kAdd,         // current += tensor `other` (then activation)
  kScale,       // current = tensor `other` x current (per channel: squeeze-and-excite)
  kLayerNorm,   // over the features of each position
  kAttention,   // fused Q,K,V (3 x hidden features) -> softmax(QK^T/sqrt(d)) V per head
  kEmbedding,   // token ids -> sum of table rows (word, position, type)
  kFirstToken,  // keeps the first position (BERT's pooler input)
  kSave,        // names the current tensor `other`; runs nothing
};

enum class Activation { kNone, kRelu, kHardSwish, kHardSigmoid, kGelu, kTanh };

const char* ToString(ZooOpKind kind);
const char* ToString(Activation act);

struct ZooOp {
  ZooOpKind kind = ZooOpKind::kSave;
  Activation act = Activation::kNone;
  int out = 0, kernel = 1, stride = 1, pad = 0, groups = 1;  // conv, linear, pooling
  bool bias = false;
  bool bn = false;             // conv: a batch norm folded in (a per-channel bias at inference)
  int heads = 0;               // attention
  std::vector<long> tables;    // embedding: rows of each table
  std::string input, output;   // tensors read and written ("" = the current tensor)
  std::string other;           // add/scale: the second operand; save: the new name
  TensorShape in, out_shape, other_shape;  // resolved, per sample
  long params = 0;
  double macs_per_sample = 0;  // multiply-accumulates
  // Bytes one sample moves through device memory (inputs read, output written), at 2 bytes
  // per value; weights are counted once per batch in `weight_bytes`.
  double activation_bytes_per_sample = 0;
  double weight_bytes = 0;
};

class ZooModel {
 public:
  // Reads a zoo file. `sequence_override` > 0 replaces a sequence model's token count.
  // Throws InputError naming the file and JSON path of the first problem.
  static ZooModel Read(const std::string& path, int sequence_override = 0);

  const std::string& name() const { return name_; }
  const std::vector<ZooOp>& ops() const { return ops_; }
  bool is_sequence() const { return sequence_ > 0; }
  int sequence() const { return sequence_; }
  TensorShape input() const { return input_; }
  long params() const { return params_; }
  double macs_per_sample() const { return macs_per_sample_; }
  long published_params() const { return published_params_; }
  double published_macs_per_sample() const { return published_macs_; }
  // Bytes a batch moves: weights once, activations per sample (fp16).
  double BytesMoved(int batch) const;
  // Operations that launch work (all but save).
  int kernel_ops() const;

 private:
  std::string name_;
  TensorShape input_;
  int sequence_ = 0;
  long params_ = 0;
  double macs_per_sample_ = 0;
  long published_params_ = 0;
  double published_macs_ = 0;
  std::vector<ZooOp> ops_;
};

// The zoo files in `dir` (sorted by name), e.g. "resnet50" for resnet50.json.
std::vector<std::string> ListZoo(const std::string& dir);

}  // namespace gpuslice

#endif  // GPUSLICE_GPU_CALIBRATE_ZOO_H_
