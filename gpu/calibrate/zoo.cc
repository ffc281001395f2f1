#include "gpu/calibrate/zoo.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "sim/util/error.h"
#include "sim/util/json_reader.h"

namespace gpuslice {
namespace {

constexpr double kBytesPerValue = 2;  // fp16 activations and weights

Activation ParseActivation(const JsonObject& obj) {
  const std::string name = obj.String("act", "none");
  if (name == "none") return Activation::kNone;
  if (name == "relu") return Activation::kRelu;
  if (name == "hswish") return Activation::kHardSwish;
  if (name == "hsigmoid") return Activation::kHardSigmoid;
  if (name == "gelu") return Activation::kGelu;
  if (name == "tanh") return Activation::kTanh;
  throw obj.Error("act", "unknown activation '" + name +
                             "' (expected none, relu, hswish, hsigmoid, gelu or tanh)");
}

ZooOpKind ParseKind(const JsonObject& obj) {
  static const std::map<std::string, ZooOpKind> kKinds = {
      {"conv", ZooOpKind::kConv},           {"maxpool", ZooOpKind::kMaxPool},
      {"avgpool", ZooOpKind::kAvgPool},     {"flatten", ZooOpKind::kFlatten},
      {"linear", ZooOpKind::kLinear},       {"add", ZooOpKind::kAdd},
      {"scale", ZooOpKind::kScale},         {"layernorm", ZooOpKind::kLayerNorm},
      {"attention", ZooOpKind::kAttention}, {"embedding", ZooOpKind::kEmbedding},
      {"first_token", ZooOpKind::kFirstToken}, {"save", ZooOpKind::kSave}};
  const std::string name = obj.String("op");
  auto it = kKinds.find(name);
  if (it == kKinds.end()) throw obj.Error("op", "unknown operation '" + name + "'");
  return it->second;
}

long Window(long size, int kernel, int stride, int pad) {
  return (size + 2L * pad - kernel) / stride + 1;
}

}  // namespace

std::string TensorShape::ToString() const {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

const char* ToString(ZooOpKind kind) {
  switch (kind) {
    case ZooOpKind::kConv: return "conv";
    case ZooOpKind::kMaxPool: return "maxpool";
    case ZooOpKind::kAvgPool: return "avgpool";
    case ZooOpKind::kFlatten: return "flatten";
    case ZooOpKind::kLinear: return "linear";
    case ZooOpKind::kAdd: return "add";
    case ZooOpKind::kScale: return "scale";
    case ZooOpKind::kLayerNorm: return "layernorm";
    case ZooOpKind::kAttention: return "attention";
    case ZooOpKind::kEmbedding: return "embedding";
    case ZooOpKind::kFirstToken: return "first_token";
    case ZooOpKind::kSave: return "save";
  }
  return "?";
}

const char* ToString(Activation act) {
  switch (act) {
    case Activation::kNone: return "none";
    case Activation::kRelu: return "relu";
    case Activation::kHardSwish: return "hswish";
    case Activation::kHardSigmoid: return "hsigmoid";
    case Activation::kGelu: return "gelu";
    case Activation::kTanh: return "tanh";
  }
  return "?";
}

ZooModel ZooModel::Read(const std::string& path, int sequence_override) {
  const nlohmann::ordered_json root = ParseJsonFile(path);
  JsonObject top(path, root, "");
  ZooModel model;
  model.name_ = top.String("name");
  top.String("generated_by", "");
  JsonObject input = top.Object("input");
  if (input.Has("sequence")) {
    model.sequence_ = static_cast<int>(input.IntegerIn("sequence", 0, 1, 1 << 20));
    if (sequence_override > 0) model.sequence_ = sequence_override;
    model.input_ = {1, model.sequence_, 1};  // token ids
  } else {
    model.input_ = {input.IntegerIn("channels", 0, 1, 1 << 16), input.IntegerIn("height", 0, 1, 1 << 16),
                    input.IntegerIn("width", 0, 1, 1 << 16)};
  }
  input.RejectUnknownKeys();
  if (top.Has("published")) {
    JsonObject published = top.Object("published");
    model.published_params_ = published.Integer("params", 0);
    model.published_macs_ = published.NonNegative("macs_per_sample", 0);
    published.String("source", "");
    published.RejectUnknownKeys();
  }

  const nlohmann::ordered_json& ops = top.Value("ops");
  if (!ops.is_array() || ops.empty()) throw top.Error("ops", "must be a non-empty array of operations");
  std::map<std::string, TensorShape> named;
  TensorShape current = model.input_;
  for (size_t i = 0; i < ops.size(); ++i) {
    JsonObject obj(path, ops[i], JoinPointer("/ops", std::to_string(i)));
    ZooOp op;
    op.kind = ParseKind(obj);
    op.input = obj.String("input", "");
    op.output = obj.String("output", "");
    auto lookup = [&](const std::string& key, const std::string& name) {
      auto it = named.find(name);
      if (it == named.end()) throw obj.Error(key, "no tensor named '" + name + "' was saved before");
      return it->second;
    };
    const TensorShape in = op.input.empty() ? current : lookup("input", op.input);
    op.in = in;
    TensorShape out = in;
    switch (op.kind) {
      case ZooOpKind::kConv: {
        op.out = static_cast<int>(obj.IntegerIn("out", 0, 1, 1 << 16));
        op.kernel = static_cast<int>(obj.IntegerIn("kernel", 0, 1, 64));
        op.stride = static_cast<int>(obj.IntegerIn("stride", 1, 1, 64));
        op.pad = static_cast<int>(obj.IntegerIn("pad", 0, 0, 64));
        op.groups = static_cast<int>(obj.IntegerIn("groups", 1, 1, 1 << 16));
        op.bias = obj.Bool("bias", false);
        op.bn = obj.Bool("bn", false);
        op.act = ParseActivation(obj);
        if (in.c % op.groups != 0 || op.out % op.groups != 0) {
          throw obj.Error("groups", std::to_string(op.groups) + " groups do not divide " + std::to_string(in.c) +
                                        " input and " + std::to_string(op.out) + " output channels");
        }
        out = {op.out, Window(in.h, op.kernel, op.stride, op.pad), Window(in.w, op.kernel, op.stride, op.pad)};
        if (out.h < 1 || out.w < 1) throw obj.Error("kernel", "larger than its padded input " + in.ToString());
        const long weights = static_cast<long>(op.kernel) * op.kernel * (in.c / op.groups) * op.out;
        op.params = weights + (op.bias ? op.out : 0) + (op.bn ? 2L * op.out : 0);
        op.macs_per_sample = static_cast<double>(out.h) * out.w * weights;
        break;
      }
      case ZooOpKind::kMaxPool:
        op.kernel = static_cast<int>(obj.IntegerIn("kernel", 0, 1, 64));
        op.stride = static_cast<int>(obj.IntegerIn("stride", 1, 1, 64));
        op.pad = static_cast<int>(obj.IntegerIn("pad", 0, 0, 64));
        out = {in.c, Window(in.h, op.kernel, op.stride, op.pad), Window(in.w, op.kernel, op.stride, op.pad)};
        if (out.h < 1 || out.w < 1) throw obj.Error("kernel", "larger than its padded input " + in.ToString());
        break;
      case ZooOpKind::kAvgPool:
        out = {in.c, 1, 1};
        break;
      case ZooOpKind::kFlatten:
        out = {in.elements(), 1, 1};
        break;
      case ZooOpKind::kLinear:
        op.out = static_cast<int>(obj.IntegerIn("out", 0, 1, 1 << 20));
        op.bias = obj.Bool("bias", false);
        op.act = ParseActivation(obj);
        out = {op.out, in.h, in.w};
        op.params = in.c * op.out + (op.bias ? op.out : 0);
        op.macs_per_sample = static_cast<double>(in.h) * in.w * in.c * op.out;
        break;
      case ZooOpKind::kAdd:
      case ZooOpKind::kScale: {
        op.other = obj.String("to");
        op.other_shape = lookup("to", op.other);
        if (op.kind == ZooOpKind::kAdd) {
          op.act = ParseActivation(obj);
          if (!(op.other_shape == in)) {
            throw obj.Error("to", "shape " + op.other_shape.ToString() + " differs from the current " + in.ToString());
          }
        } else {
          if (in.c != op.other_shape.c || in.h != 1 || in.w != 1) {
            throw obj.Error("to", "scale needs per-channel factors " + std::to_string(op.other_shape.c) +
                                      "x1x1 (got " + in.ToString() + ")");
          }
          out = op.other_shape;
        }
        break;
      }
      case ZooOpKind::kLayerNorm:
        op.params = 2 * in.c;
        break;
      case ZooOpKind::kAttention: {
        op.heads = static_cast<int>(obj.IntegerIn("heads", 0, 1, 1024));
        if (in.c % 3 != 0 || (in.c / 3) % op.heads != 0) {
          throw obj.Error("heads", "attention needs 3 x hidden features with hidden divisible by the heads (got " +
                                       std::to_string(in.c) + " features, " + std::to_string(op.heads) + " heads)");
        }
        const long hidden = in.c / 3, tokens = in.h * in.w;
        out = {hidden, in.h, in.w};
        op.macs_per_sample = 2.0 * tokens * tokens * hidden;  // QK^T and AV
        break;
      }
      case ZooOpKind::kEmbedding: {
        if (!model.is_sequence() || !(in == model.input_)) {
          throw obj.Error("op", "embedding reads the token ids of a sequence model's input");
        }
        const nlohmann::ordered_json& tables = obj.Value("tables");
        if (!tables.is_array() || tables.empty()) throw obj.Error("tables", "must be a non-empty array of row counts");
        for (const auto& t : tables) {
          if (!t.is_number_integer() || t.get<long>() < 1) throw obj.Error("tables", "row counts must be integers >= 1");
          op.tables.push_back(t.get<long>());
        }
        op.out = static_cast<int>(obj.IntegerIn("dim", 0, 1, 1 << 20));
        if (op.tables.size() > 1 && op.tables[1] < model.sequence_) {
          throw obj.Error("tables", "the position table has " + std::to_string(op.tables[1]) + " rows, fewer than the " +
                                        std::to_string(model.sequence_) + " tokens");
        }
        long rows = 0;
        for (long t : op.tables) rows += t;
        op.params = rows * op.out;
        out = {op.out, in.h, in.w};
        break;
      }
      case ZooOpKind::kFirstToken:
        out = {in.c, 1, 1};
        break;
      case ZooOpKind::kSave:
        op.other = obj.String("name");
        break;
    }
    obj.RejectUnknownKeys();
    op.out_shape = out;
    if (op.kind == ZooOpKind::kSave) {
      named[op.other] = current;
    } else if (op.output.empty()) {
      current = out;
    } else {
      named[op.output] = out;
    }
    double values = static_cast<double>(in.elements()) + out.elements();
    if (op.kind == ZooOpKind::kAdd || op.kind == ZooOpKind::kScale) values += op.other_shape.elements();
    if (op.kind == ZooOpKind::kSave) values = 0;
    op.activation_bytes_per_sample = values * kBytesPerValue;
    op.weight_bytes = static_cast<double>(op.params) * kBytesPerValue;
    model.params_ += op.params;
    model.macs_per_sample_ += op.macs_per_sample;
    model.ops_.push_back(std::move(op));
  }
  top.RejectUnknownKeys();
  return model;
}

double ZooModel::BytesMoved(int batch) const {
  double bytes = 0;
  for (const ZooOp& op : ops_) {
    if (op.kind == ZooOpKind::kEmbedding) {
      bytes += op.activation_bytes_per_sample * batch;  // gathers rows, not the whole table
    } else {
      bytes += op.weight_bytes + op.activation_bytes_per_sample * batch;
    }
  }
  return bytes;
}

int ZooModel::kernel_ops() const {
  return static_cast<int>(std::count_if(ops_.begin(), ops_.end(), [](const ZooOp& op) {
    return op.kind != ZooOpKind::kSave && op.kind != ZooOpKind::kFlatten;
  }));
}

std::vector<std::string> ListZoo(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  if (ec) throw InputError(dir + ": cannot list the zoo folder: " + ec.message());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace gpuslice
