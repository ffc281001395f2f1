// CudaDevice: the CalibrationDevice of the local GPU (see gpu/calibrate/local_gpu.h).
#include <cuda.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <cudnn.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gpu/calibrate/cuda/kernels.h"
#include "gpu/calibrate/cuda/libraries.h"
#include "gpu/calibrate/local_gpu.h"
#include "gpu/specs.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace gpuslice {
namespace {

std::string Where(const char* file, int line) { return std::string(file) + ":" + std::to_string(line) + ": "; }

// The driver this binary's (static) CUDA runtime needs.
std::string RequiredDriver() {
  const int major = CUDART_VERSION / 1000;
  if (major >= 13) return "this binary's CUDA 13 runtime needs an NVIDIA driver of release 580 or newer";
  if (major == 12) return "this binary's CUDA 12 runtime needs an NVIDIA driver of release 525 or newer";
  return "this binary needs a newer NVIDIA driver";
}

// "" if a library reports being built for this binary's CUDA major version, else why not.
std::string SameCudaMajor(size_t library_cudart_version, const char* library) {
  const size_t major = library_cudart_version / 1000, ours = CUDART_VERSION / 1000;
  if (major == ours) return "";
  return std::string(library) + " built for CUDA " + std::to_string(major) + "." +
         std::to_string(library_cudart_version % 1000 / 10) + "; this binary needs a CUDA " + std::to_string(ours) +
         " build";
}

#define GS_CUDA(expr)                                                                                     \
  do {                                                                                                    \
    const cudaError_t gs_err = (expr);                                                                    \
    if (gs_err != cudaSuccess) throw GpuError(Where(__FILE__, __LINE__) + #expr + ": " + cudaGetErrorString(gs_err)); \
  } while (0)

// ---- Driver API through the runtime's entry points ----------------------------------------

struct Driver {
  decltype(&cuDeviceGet) DeviceGet = nullptr;
  decltype(&cuDeviceGetDevResource) DeviceGetDevResource = nullptr;
  decltype(&cuDevSmResourceSplitByCount) DevSmResourceSplitByCount = nullptr;
  decltype(&cuDevResourceGenerateDesc) DevResourceGenerateDesc = nullptr;
  decltype(&cuGreenCtxCreate) GreenCtxCreate = nullptr;
  decltype(&cuGreenCtxDestroy) GreenCtxDestroy = nullptr;
  decltype(&cuCtxFromGreenCtx) CtxFromGreenCtx = nullptr;
  decltype(&cuGreenCtxStreamCreate) GreenCtxStreamCreate = nullptr;
  decltype(&cuCtxSetCurrent) CtxSetCurrent = nullptr;
  decltype(&cuCtxGetCurrent) CtxGetCurrent = nullptr;
  decltype(&cuStreamDestroy) StreamDestroy = nullptr;
  decltype(&cuGetErrorString) GetErrorString = nullptr;

  // Each function in the version of the headers we were built with (their signatures).
  template <typename F>
  void Load(F& fn, const char* name) {
    cudaDriverEntryPointQueryResult status{};
    void* p = nullptr;
    const cudaError_t err = cudaGetDriverEntryPointByVersion(name, &p, CUDART_VERSION, cudaEnableDefault, &status);
    if (err != cudaSuccess || status != cudaDriverEntryPointSuccess || !p) {
      throw GpuError(std::string("the driver has no ") + name + " at CUDA " + std::to_string(CUDART_VERSION / 1000) + "." +
                     std::to_string(CUDART_VERSION % 1000 / 10) + " (" + RequiredDriver() +
                     "; green contexts need CUDA 12.4 or newer)");
    }
    fn = reinterpret_cast<F>(p);
  }
  void LoadAll() {
    Load(DeviceGet, "cuDeviceGet");
    Load(DeviceGetDevResource, "cuDeviceGetDevResource");
    Load(DevSmResourceSplitByCount, "cuDevSmResourceSplitByCount");
    Load(DevResourceGenerateDesc, "cuDevResourceGenerateDesc");
    Load(GreenCtxCreate, "cuGreenCtxCreate");
    Load(GreenCtxDestroy, "cuGreenCtxDestroy");
    Load(CtxFromGreenCtx, "cuCtxFromGreenCtx");
    Load(GreenCtxStreamCreate, "cuGreenCtxStreamCreate");
    Load(CtxSetCurrent, "cuCtxSetCurrent");
    Load(CtxGetCurrent, "cuCtxGetCurrent");
    Load(StreamDestroy, "cuStreamDestroy");
    Load(GetErrorString, "cuGetErrorString");
  }
  void Check(CUresult r, const char* what, const char* file, int line) const {
    if (r == CUDA_SUCCESS) return;
    const char* msg = nullptr;
    if (GetErrorString) GetErrorString(r, &msg);
    throw GpuError(Where(file, line) + what + ": " + (msg ? msg : "CUDA driver error " + std::to_string(r)));
  }
};
#define GS_CU(drv, expr) (drv).Check((expr), #expr, __FILE__, __LINE__)

// ---- cuBLAS and cuDNN, opened at run time -------------------------------------------------

template <typename F>
void Sym(void* lib, F& fn, const char* name, const std::string& path) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw GpuError(path + " has no " + name);
}

struct Blas {
  decltype(&cublasCreate_v2) Create = nullptr;
  decltype(&cublasDestroy_v2) Destroy = nullptr;
  decltype(&cublasSetStream_v2) SetStream = nullptr;
  decltype(&cublasGetVersion_v2) GetVersion = nullptr;
  // Spelt out: the C++ header overloads these names.
  using GemmExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int, const void*,
                                      const void*, cudaDataType, int, const void*, cudaDataType, int, const void*, void*,
                                      cudaDataType, int, cublasComputeType_t, cublasGemmAlgo_t);
  using GemmStridedBatchedExFn = cublasStatus_t (*)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                                                    const void*, const void*, cudaDataType, int, long long, const void*,
                                                    cudaDataType, int, long long, const void*, void*, cudaDataType, int,
                                                    long long, int, cublasComputeType_t, cublasGemmAlgo_t);
  GemmExFn GemmEx = nullptr;
  GemmStridedBatchedExFn GemmStridedBatchedEx = nullptr;
  decltype(&cublasSetWorkspace_v2) SetWorkspace = nullptr;
  decltype(&cublasSetSmCountTarget) SetSmCountTarget = nullptr;  // optional (cuBLAS >= 11.3)
  std::string path, lt_path;
  // `first`: the folders to try before the search path (those beside cuDNN).
  void Open(const std::vector<std::string>& first) {
    OpenLibrary("libcublasLt.so." + std::to_string(CUBLAS_VER_MAJOR), "cuBLASLt, used by cuBLAS and cuDNN", &lt_path,
                [](void* lib, const std::string&) -> std::string {
                  auto version = reinterpret_cast<size_t (*)()>(dlsym(lib, "cublasLtGetCudartVersion"));
                  return version ? SameCudaMajor(version(), "cuBLASLt") : "no cublasLtGetCudartVersion";
                },
                first);
    void* lib = OpenLibrary(
        "libcublas.so." + std::to_string(CUBLAS_VER_MAJOR), "cuBLAS", &path,
        [](void* l, const std::string&) -> std::string {
          auto version = reinterpret_cast<size_t (*)()>(dlsym(l, "cublasGetCudartVersion"));
          return version ? SameCudaMajor(version(), "cuBLAS") : "no cublasGetCudartVersion";
        },
        first);
    Sym(lib, SetWorkspace, "cublasSetWorkspace_v2", path);
    SetSmCountTarget = reinterpret_cast<decltype(SetSmCountTarget)>(dlsym(lib, "cublasSetSmCountTarget"));
    Sym(lib, Create, "cublasCreate_v2", path);
    Sym(lib, Destroy, "cublasDestroy_v2", path);
    Sym(lib, SetStream, "cublasSetStream_v2", path);
    Sym(lib, GetVersion, "cublasGetVersion_v2", path);
    Sym(lib, GemmEx, "cublasGemmEx", path);
    Sym(lib, GemmStridedBatchedEx, "cublasGemmStridedBatchedEx", path);
  }
};

struct Dnn {
  decltype(&cudnnCreate) Create = nullptr;
  decltype(&cudnnDestroy) Destroy = nullptr;
  decltype(&cudnnSetStream) SetStream = nullptr;
  decltype(&cudnnGetVersion) GetVersion = nullptr;
  decltype(&cudnnGetErrorString) GetErrorString = nullptr;
  decltype(&cudnnCreateTensorDescriptor) CreateTensorDescriptor = nullptr;
  decltype(&cudnnSetTensor4dDescriptor) SetTensor4dDescriptor = nullptr;
  decltype(&cudnnCreateFilterDescriptor) CreateFilterDescriptor = nullptr;
  decltype(&cudnnSetFilter4dDescriptor) SetFilter4dDescriptor = nullptr;
  decltype(&cudnnCreateConvolutionDescriptor) CreateConvolutionDescriptor = nullptr;
  decltype(&cudnnSetConvolution2dDescriptor) SetConvolution2dDescriptor = nullptr;
  decltype(&cudnnSetConvolutionGroupCount) SetConvolutionGroupCount = nullptr;
  decltype(&cudnnSetConvolutionMathType) SetConvolutionMathType = nullptr;
  decltype(&cudnnGetConvolutionForwardAlgorithm_v7) GetConvolutionForwardAlgorithm_v7 = nullptr;
  decltype(&cudnnFindConvolutionForwardAlgorithmEx) FindConvolutionForwardAlgorithmEx = nullptr;
  decltype(&cudnnConvolutionForward) ConvolutionForward = nullptr;
  decltype(&cudnnDestroyTensorDescriptor) DestroyTensorDescriptor = nullptr;
  decltype(&cudnnDestroyFilterDescriptor) DestroyFilterDescriptor = nullptr;
  decltype(&cudnnDestroyConvolutionDescriptor) DestroyConvolutionDescriptor = nullptr;
  std::string path;
  void Open() {
    void* lib = OpenLibrary("libcudnn.so." + std::to_string(CUDNN_MAJOR), "cuDNN", &path,
                            [](void* l, const std::string&) -> std::string {
                              auto version = reinterpret_cast<size_t (*)()>(dlsym(l, "cudnnGetCudartVersion"));
                              return version ? SameCudaMajor(version(), "cuDNN") : "no cudnnGetCudartVersion";
                            });
    Sym(lib, Create, "cudnnCreate", path);
    Sym(lib, Destroy, "cudnnDestroy", path);
    Sym(lib, SetStream, "cudnnSetStream", path);
    Sym(lib, GetVersion, "cudnnGetVersion", path);
    Sym(lib, GetErrorString, "cudnnGetErrorString", path);
    Sym(lib, CreateTensorDescriptor, "cudnnCreateTensorDescriptor", path);
    Sym(lib, SetTensor4dDescriptor, "cudnnSetTensor4dDescriptor", path);
    Sym(lib, CreateFilterDescriptor, "cudnnCreateFilterDescriptor", path);
    Sym(lib, SetFilter4dDescriptor, "cudnnSetFilter4dDescriptor", path);
    Sym(lib, CreateConvolutionDescriptor, "cudnnCreateConvolutionDescriptor", path);
    Sym(lib, SetConvolution2dDescriptor, "cudnnSetConvolution2dDescriptor", path);
    Sym(lib, SetConvolutionGroupCount, "cudnnSetConvolutionGroupCount", path);
    Sym(lib, SetConvolutionMathType, "cudnnSetConvolutionMathType", path);
    Sym(lib, GetConvolutionForwardAlgorithm_v7, "cudnnGetConvolutionForwardAlgorithm_v7", path);
    Sym(lib, FindConvolutionForwardAlgorithmEx, "cudnnFindConvolutionForwardAlgorithmEx", path);
    Sym(lib, ConvolutionForward, "cudnnConvolutionForward", path);
    Sym(lib, DestroyTensorDescriptor, "cudnnDestroyTensorDescriptor", path);
    Sym(lib, DestroyFilterDescriptor, "cudnnDestroyFilterDescriptor", path);
    Sym(lib, DestroyConvolutionDescriptor, "cudnnDestroyConvolutionDescriptor", path);
  }
  void Check(cudnnStatus_t s, const char* what, const char* file, int line) const {
    if (s == CUDNN_STATUS_SUCCESS) return;
    throw GpuError(Where(file, line) + what + ": " + (GetErrorString ? GetErrorString(s) : std::to_string(s)));
  }
};
#define GS_DNN(dnn, expr) (dnn).Check((expr), #expr, __FILE__, __LINE__)
#define GS_BLAS(expr)                                                                                        \
  do {                                                                                                       \
    const cublasStatus_t gs_st = (expr);                                                                     \
    if (gs_st != CUBLAS_STATUS_SUCCESS) throw GpuError(Where(__FILE__, __LINE__) + #expr + ": cuBLAS status " + std::to_string(gs_st)); \
  } while (0)

// NVML, if the driver has it: the clocks, temperature and power at the start and end of a run.
// Declared here from NVML's stable C interface (its header is not in every CUDA toolkit).
struct Nvml {
  using Device = void*;
  int (*Init)() = nullptr;
  int (*HandleByPciBusId)(const char*, Device*) = nullptr;
  int (*ClockInfo)(Device, int, unsigned*) = nullptr;
  int (*Temperature)(Device, int, unsigned*) = nullptr;
  int (*PowerUsage)(Device, unsigned*) = nullptr;
  Device device = nullptr;

  void Open(const std::string& pci_bus_id) {
    void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) return;
    Init = reinterpret_cast<int (*)()>(dlsym(lib, "nvmlInit_v2"));
    HandleByPciBusId = reinterpret_cast<int (*)(const char*, Device*)>(dlsym(lib, "nvmlDeviceGetHandleByPciBusId_v2"));
    ClockInfo = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetClockInfo"));
    Temperature = reinterpret_cast<int (*)(Device, int, unsigned*)>(dlsym(lib, "nvmlDeviceGetTemperature"));
    PowerUsage = reinterpret_cast<int (*)(Device, unsigned*)>(dlsym(lib, "nvmlDeviceGetPowerUsage"));
    if (!Init || !HandleByPciBusId || !ClockInfo || !Temperature || !PowerUsage || Init() != 0 ||
        HandleByPciBusId(pci_bus_id.c_str(), &device) != 0) {
      device = nullptr;
    }
  }
  nlohmann::ordered_json Snapshot() const {
    nlohmann::ordered_json j = nlohmann::ordered_json::object();
    if (!device) return j;
    unsigned v = 0;
    constexpr int kClockSm = 1, kClockMem = 2, kTemperatureGpu = 0;
    if (ClockInfo(device, kClockSm, &v) == 0) j["sm_clock_mhz"] = v;
    if (ClockInfo(device, kClockMem, &v) == 0) j["memory_clock_mhz"] = v;
    if (Temperature(device, kTemperatureGpu, &v) == 0) j["temperature_c"] = v;
    if (PowerUsage(device, &v) == 0) j["power_w"] = v / 1000.0;
    return j;
  }
};

struct Libraries {
  Driver driver;
  Blas blas;
  Dnn dnn;
  CUcontext primary = nullptr;
  // cuDNN's choice per (partition SMs, convolution shape, batch): cudnnFind runs once for
  // each, not for every layer of that shape in every model, batch and pair.
  std::map<std::string, cudnnConvolutionFwdAlgo_t> conv_algos;
};

// ---- A partition: a context (green or primary), a stream, library handles ------------------

class CudaPartition;

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) {
    if (bytes > 0) GS_CUDA(cudaMalloc(&ptr_, bytes));
  }
  ~DeviceBuffer() {
    if (ptr_) cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(ptr_);
  }

 private:
  void* ptr_ = nullptr;
};

class CudaPartition : public Partition {
 public:
  CudaPartition(Libraries& libs, CUcontext ctx, CUgreenCtx green, CUstream stream, int sms)
      : libs_(libs), ctx_(ctx), green_(green), stream_(stream), sms_(sms) {
    MakeCurrent();
    workspace_bytes_ = size_t{256} << 20;
    workspace_ = std::make_unique<DeviceBuffer>(workspace_bytes_);
    blas_workspace_ = std::make_unique<DeviceBuffer>(kBlasWorkspaceBytes);
    GS_BLAS(libs_.blas.Create(&blas_));
    GS_BLAS(libs_.blas.SetStream(blas_, reinterpret_cast<cudaStream_t>(stream_)));
    // A workspace of its own, so that nothing is allocated while a graph is captured.
    GS_BLAS(libs_.blas.SetWorkspace(blas_, blas_workspace_->as<void>(), kBlasWorkspaceBytes));
    // cuBLAS picks kernels for the SMs it is told it has; a partition has fewer than the GPU.
    if (green_ && libs_.blas.SetSmCountTarget) GS_BLAS(libs_.blas.SetSmCountTarget(blas_, sms_));
    GS_DNN(libs_.dnn, libs_.dnn.Create(&dnn_));
    GS_DNN(libs_.dnn, libs_.dnn.SetStream(dnn_, reinterpret_cast<cudaStream_t>(stream_)));
  }
  // Never throws: releases what it can, and leaves the primary context current (never a
  // destroyed green context).
  ~CudaPartition() override {
    if (TryMakeCurrent()) cudaStreamSynchronize(stream());
    workspace_.reset();
    blas_workspace_.reset();
    if (dnn_) libs_.dnn.Destroy(dnn_);
    if (blas_) libs_.blas.Destroy(blas_);
    if (green_) {
      libs_.driver.StreamDestroy(stream_);
      libs_.driver.CtxSetCurrent(libs_.primary);
      libs_.driver.GreenCtxDestroy(green_);
    } else {
      cudaStreamDestroy(stream());
    }
    libs_.driver.CtxSetCurrent(libs_.primary);
  }
  int sm_count() const override { return sms_; }
  std::unique_ptr<Inference> Prepare(const ZooModel& model, int batch) override;

  void MakeCurrent() const { GS_CU(libs_.driver, libs_.driver.CtxSetCurrent(ctx_)); }
  bool TryMakeCurrent() const noexcept { return libs_.driver.CtxSetCurrent(ctx_) == CUDA_SUCCESS; }
  cudaStream_t stream() const { return reinterpret_cast<cudaStream_t>(stream_); }
  Libraries& libs() { return libs_; }
  cublasHandle_t blas() const { return blas_; }
  cudnnHandle_t dnn() const { return dnn_; }
  void* workspace() const { return workspace_->as<void>(); }
  size_t workspace_bytes() const { return workspace_bytes_; }

 private:
  Libraries& libs_;
  CUcontext ctx_;
  CUgreenCtx green_;
  CUstream stream_;
  int sms_;
  cublasHandle_t blas_ = nullptr;
  cudnnHandle_t dnn_ = nullptr;
  static constexpr size_t kBlasWorkspaceBytes = size_t{32} << 20;  // cuBLAS's advice for Hopper
  std::unique_ptr<DeviceBuffer> workspace_;
  std::unique_ptr<DeviceBuffer> blas_workspace_;
  size_t workspace_bytes_ = 0;
};

// ---- An inference: the zoo's operations bound to buffers, as launch units ------------------

// Launches replay CUDA graphs, as inference engines do: one graph per unit (for the token
// gate's segments and the per-unit timing) and one for the whole inference; host launch
// gaps then no longer count as GPU time. If a unit cannot be captured, every launch is eager
// and LaunchMode() says why.
class CudaInference : public Inference {
 public:
  CudaInference(CudaPartition& part, const ZooModel& model, int batch);
  // Never throws (see ~CudaPartition).
  ~CudaInference() override {
    if (part_.TryMakeCurrent()) cudaStreamSynchronize(part_.stream());
    for (cudaGraphExec_t g : unit_graphs_) cudaGraphExecDestroy(g);
    if (whole_graph_) cudaGraphExecDestroy(whole_graph_);
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
    Dnn& dnn = part_.libs().dnn;
    for (const Conv& c : convs_) {
      dnn.DestroyTensorDescriptor(c.x);
      dnn.DestroyTensorDescriptor(c.y);
      dnn.DestroyFilterDescriptor(c.w);
      dnn.DestroyConvolutionDescriptor(c.conv);
    }
  }
  int units() const override { return static_cast<int>(units_.size()); }
  std::string LaunchMode() const override { return launch_mode_; }
  std::vector<double> TimeFull(int count) override {
    part_.MakeCurrent();
    std::vector<double> out;
    for (int c = 0; c < count; ++c) {
      LaunchRange(0, units());
      Synchronize();
      out.push_back(LastRunMs());
    }
    return out;
  }
  std::vector<int64_t> TimeUnits(int count) override {
    part_.MakeCurrent();
    const int n = units();
    std::vector<std::vector<float>> per_unit(static_cast<size_t>(n));
    for (int c = 0; c < count; ++c) {
      for (int i = 0; i < n; ++i) {
        GS_CUDA(cudaEventRecord(events_[static_cast<size_t>(2 + i)], part_.stream()));
        LaunchUnit(i);
      }
      GS_CUDA(cudaEventRecord(events_[static_cast<size_t>(2 + n)], part_.stream()));
      GS_CUDA(cudaStreamSynchronize(part_.stream()));
      for (int i = 0; i < n; ++i) {
        float ms = 0;
        GS_CUDA(cudaEventElapsedTime(&ms, events_[static_cast<size_t>(2 + i)], events_[static_cast<size_t>(3 + i)]));
        per_unit[static_cast<size_t>(i)].push_back(ms);
      }
    }
    std::vector<int64_t> ns;
    for (auto& v : per_unit) {
      std::sort(v.begin(), v.end());
      ns.push_back(static_cast<int64_t>(std::llround(v[v.size() / 2] * 1e6)));
    }
    return ns;
  }
  // The partition is kept busy without a gap: a second inference is always queued behind
  // the running one (one graph launch each), and the host waits on blocking-sync events
  // instead of spinning beside the measuring thread.
  void RunInBackground(const std::atomic<bool>& stop, std::atomic<bool>& started) override {
    part_.MakeCurrent();
    cudaEvent_t done[2] = {nullptr, nullptr};
    for (cudaEvent_t& e : done) GS_CUDA(cudaEventCreateWithFlags(&e, cudaEventDisableTiming | cudaEventBlockingSync));
    try {
      long k = 0;
      for (; k < 2; ++k) {
        LaunchWhole();
        GS_CUDA(cudaEventRecord(done[k % 2], part_.stream()));
      }
      started = true;
      while (!stop.load(std::memory_order_relaxed)) {
        GS_CUDA(cudaEventSynchronize(done[k % 2]));  // the older of the two finished
        LaunchWhole();
        GS_CUDA(cudaEventRecord(done[k % 2], part_.stream()));
        ++k;
      }
      GS_CUDA(cudaStreamSynchronize(part_.stream()));
    } catch (...) {
      for (cudaEvent_t e : done) cudaEventDestroy(e);
      throw;
    }
    for (cudaEvent_t e : done) cudaEventDestroy(e);
  }
  std::string CheckOutput() override {
    part_.MakeCurrent();
    GS_CUDA(cudaStreamSynchronize(part_.stream()));
    std::vector<__half> host(static_cast<size_t>(output_elements_));
    GS_CUDA(cudaMemcpy(host.data(), output_, host.size() * sizeof(__half), cudaMemcpyDeviceToHost));
    size_t bad = 0, zero = 0;
    for (__half h : host) {
      const float v = __half2float(h);
      bad += !std::isfinite(v);
      zero += v == 0.f;
    }
    if (bad > 0) return std::to_string(bad) + " of " + std::to_string(host.size()) + " outputs are not finite";
    if (zero == host.size()) return "every output is zero";
    return "";
  }
  double LastRunMs() override {
    float ms = 0;
    GS_CUDA(cudaEventElapsedTime(&ms, events_[0], events_[1]));
    return ms;
  }
  int64_t NowNs() override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void Launch(int index) override { LaunchRange(index, index + 1); }
  void LaunchRange(int begin, int end) override {
    if (begin == 0) {
      part_.MakeCurrent();
      GS_CUDA(cudaEventRecord(events_[0], part_.stream()));
    }
    if (begin == 0 && end == units()) {
      LaunchWhole();
    } else {
      for (int i = begin; i < end; ++i) LaunchUnit(i);
    }
    if (end == units()) GS_CUDA(cudaEventRecord(events_[1], part_.stream()));
  }
  int64_t Synchronize() override {
    GS_CUDA(cudaStreamSynchronize(part_.stream()));
    return NowNs();
  }
  void SleepUntil(int64_t t_ns) override {
    const int64_t now = NowNs();
    if (t_ns > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t_ns - now));
  }

 private:
  struct Conv {
    cudnnTensorDescriptor_t x = nullptr, y = nullptr;
    cudnnFilterDescriptor_t w = nullptr;
    cudnnConvolutionDescriptor_t conv = nullptr;
    cudnnConvolutionFwdAlgo_t algo{};
  };
  __half* Alloc(int64_t elements) {
    const size_t bytes = static_cast<size_t>(std::max<int64_t>(elements, 1)) * sizeof(__half);
    buffers_.push_back(std::make_unique<DeviceBuffer>(bytes));
    GS_CUDA(cudaMemsetAsync(buffers_.back()->as<void>(), 0, bytes, part_.stream()));
    return buffers_.back()->as<__half>();
  }
  __half* Weights(int64_t elements, float scale) {
    __half* p = Alloc(elements);
    GS_CUDA(cuda::FillRandom(p, elements, scale, seed_++, part_.stream()));
    return p;
  }
  void AddConv(const ZooOp& op, __half* x, __half* y);
  void AddLinear(const ZooOp& op, __half* x, __half* y, int64_t rows);
  void AddAttention(const ZooOp& op, __half* qkv, __half* y);

  void LaunchUnit(int i) {
    if (whole_graph_) {
      GS_CUDA(cudaGraphLaunch(unit_graphs_[static_cast<size_t>(i)], part_.stream()));
    } else {
      units_[static_cast<size_t>(i)]();
    }
  }
  void LaunchWhole() {
    if (whole_graph_) {
      GS_CUDA(cudaGraphLaunch(whole_graph_, part_.stream()));
    } else {
      for (int i = 0; i < units(); ++i) units_[static_cast<size_t>(i)]();
    }
  }
  // Captures units [begin, end) into an executable graph; "" if done, else why not (the
  // stream is left out of capture mode and the error cleared).
  std::string Capture(int begin, int end, cudaGraphExec_t* exec);
  // One graph per unit and one for the whole inference, or none (eager launches).
  void CaptureGraphs();

  CudaPartition& part_;
  int batch_;
  uint32_t seed_ = 1;
  std::vector<std::unique_ptr<DeviceBuffer>> buffers_;
  std::vector<std::function<void()>> units_;
  std::vector<cudaGraphExec_t> unit_graphs_;
  cudaGraphExec_t whole_graph_ = nullptr;
  std::string launch_mode_ = "eager";
  std::vector<cudaEvent_t> events_;
  std::vector<Conv> convs_;
  __half* output_ = nullptr;
  int64_t output_elements_ = 0;
};

static_assert(static_cast<int>(Activation::kNone) == cuda::kActNone && static_cast<int>(Activation::kRelu) == cuda::kActRelu &&
              static_cast<int>(Activation::kHardSwish) == cuda::kActHardSwish &&
              static_cast<int>(Activation::kHardSigmoid) == cuda::kActHardSigmoid &&
              static_cast<int>(Activation::kGelu) == cuda::kActGelu && static_cast<int>(Activation::kTanh) == cuda::kActTanh,
              "the kernels' activation codes follow gpuslice::Activation");
int ActCode(Activation a) { return static_cast<int>(a); }

void CudaInference::AddConv(const ZooOp& op, __half* x, __half* y) {
  Dnn& dnn = part_.libs().dnn;
  Conv c;
  GS_DNN(dnn, dnn.CreateTensorDescriptor(&c.x));
  GS_DNN(dnn, dnn.CreateTensorDescriptor(&c.y));
  GS_DNN(dnn, dnn.CreateFilterDescriptor(&c.w));
  GS_DNN(dnn, dnn.CreateConvolutionDescriptor(&c.conv));
  GS_DNN(dnn, dnn.SetTensor4dDescriptor(c.x, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, batch_, op.in.c, op.in.h, op.in.w));
  GS_DNN(dnn, dnn.SetTensor4dDescriptor(c.y, CUDNN_TENSOR_NHWC, CUDNN_DATA_HALF, batch_, op.out_shape.c, op.out_shape.h,
                                        op.out_shape.w));
  GS_DNN(dnn, dnn.SetFilter4dDescriptor(c.w, CUDNN_DATA_HALF, CUDNN_TENSOR_NHWC, op.out, op.in.c / op.groups, op.kernel,
                                        op.kernel));
  GS_DNN(dnn, dnn.SetConvolution2dDescriptor(c.conv, op.pad, op.pad, op.stride, op.stride, 1, 1, CUDNN_CROSS_CORRELATION,
                                             CUDNN_DATA_FLOAT));
  GS_DNN(dnn, dnn.SetConvolutionGroupCount(c.conv, op.groups));
  GS_DNN(dnn, dnn.SetConvolutionMathType(c.conv, CUDNN_TENSOR_OP_MATH));
  // Variance-preserving uniform weights (bound sqrt(3 / fan-in)): realistic magnitudes keep
  // activations away from zeros (which tensor cores run faster) and from fp16 overflow.
  const int64_t fan_in = static_cast<int64_t>(op.kernel) * op.kernel * (op.in.c / op.groups);
  __half* w = Weights(fan_in * op.out, std::sqrt(3.f / static_cast<float>(fan_in)));
  // The fastest algorithm on this partition, as frameworks' benchmark mode picks it, found
  // once per (partition size, shape, batch).
  const std::string key = std::to_string(part_.sm_count()) + "/" + std::to_string(batch_) + "/" + op.in.ToString() + "/" +
                          op.out_shape.ToString() + "/k" + std::to_string(op.kernel) + "s" + std::to_string(op.stride) +
                          "p" + std::to_string(op.pad) + "g" + std::to_string(op.groups);
  std::map<std::string, cudnnConvolutionFwdAlgo_t>& cache = part_.libs().conv_algos;
  constexpr int kMaxAlgos = 16;
  cudnnConvolutionFwdAlgoPerf_t perf[kMaxAlgos];
  int found = 0;
  bool chosen = false;
  if (auto it = cache.find(key); it != cache.end()) {
    c.algo = it->second;
    chosen = true;
  }
  const cudnnStatus_t st =
      chosen ? CUDNN_STATUS_SUCCESS
             : dnn.FindConvolutionForwardAlgorithmEx(part_.dnn(), c.x, x, c.w, w, c.conv, c.y, y, kMaxAlgos, &found, perf,
                                                     part_.workspace(), part_.workspace_bytes());
  if (st == CUDNN_STATUS_SUCCESS) {
    for (int i = 0; i < found && !chosen; ++i) {
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= part_.workspace_bytes()) {
        c.algo = perf[i].algo;
        chosen = true;
      }
    }
  }
  if (!chosen) {
    GS_DNN(dnn, dnn.GetConvolutionForwardAlgorithm_v7(part_.dnn(), c.x, c.w, c.conv, c.y, kMaxAlgos, &found, perf));
    for (int i = 0; i < found && !chosen; ++i) {
      if (perf[i].status == CUDNN_STATUS_SUCCESS && perf[i].memory <= part_.workspace_bytes()) {
        c.algo = perf[i].algo;
        chosen = true;
      }
    }
  }
  if (!chosen) throw GpuError("cuDNN has no algorithm for a " + op.in.ToString() + " convolution to " + op.out_shape.ToString());
  cache[key] = c.algo;
  convs_.push_back(c);
  const bool epilogue = op.bias || op.bn || op.act != Activation::kNone;
  __half* bias = epilogue ? Weights(op.out, 0.05f) : nullptr;
  const int64_t rows = static_cast<int64_t>(batch_) * op.out_shape.h * op.out_shape.w;
  const int act = ActCode(op.act);
  const int channels = op.out;
  units_.push_back([this, c, x, w, y, bias, rows, act, channels, epilogue] {
    Dnn& d = part_.libs().dnn;
    const float one = 1.f, zero = 0.f;
    GS_DNN(d, d.ConvolutionForward(part_.dnn(), &one, c.x, x, c.w, w, c.conv, c.algo, part_.workspace(),
                                   part_.workspace_bytes(), &zero, c.y, y));
    if (epilogue) GS_CUDA(cuda::BiasActivation(y, bias, rows, channels, act, part_.stream()));
  });
}

void CudaInference::AddLinear(const ZooOp& op, __half* x, __half* y, int64_t rows) {
  const int in = static_cast<int>(op.in.c), out = op.out;
  __half* w = Weights(static_cast<int64_t>(in) * out, std::sqrt(3.f / static_cast<float>(in)));
  __half* bias = op.bias ? Weights(out, 0.05f) : nullptr;
  const int act = ActCode(op.act);
  units_.push_back([this, x, y, w, bias, rows, in, out, act] {
    const float one = 1.f, zero = 0.f;
    // Row-major Y[rows, out] = X[rows, in] W^T, as column-major Y^T = W X^T.
    GS_BLAS(part_.libs().blas.GemmEx(part_.blas(), CUBLAS_OP_T, CUBLAS_OP_N, out, static_cast<int>(rows), in, &one, w,
                                     CUDA_R_16F, in, x, CUDA_R_16F, in, &zero, y, CUDA_R_16F, out, CUBLAS_COMPUTE_32F,
                                     CUBLAS_GEMM_DEFAULT));
    if (bias || act != cuda::kActNone) GS_CUDA(cuda::BiasActivation(y, bias, rows, out, act, part_.stream()));
  });
}

void CudaInference::AddAttention(const ZooOp& op, __half* qkv, __half* y) {
  const int seq = static_cast<int>(op.in.h * op.in.w);
  const int hidden = static_cast<int>(op.in.c / 3), heads = op.heads, d = hidden / heads;
  const int64_t per = static_cast<int64_t>(batch_) * heads * seq * d;
  __half* split = Alloc(3 * per);
  __half* scores = Alloc(static_cast<int64_t>(batch_) * heads * seq * seq);
  __half* context = Alloc(per);
  const int b = batch_;
  units_.push_back([this, qkv, y, split, scores, context, seq, heads, d, per, b] {
    const cudaStream_t s = part_.stream();
    const float one = 1.f, zero = 0.f;
    GS_CUDA(cuda::SplitHeads(qkv, split, b, seq, heads, d, s));
    const __half *q = split, *k = split + per, *v = split + 2 * per;
    const long long sd = static_cast<long long>(seq) * d, ss = static_cast<long long>(seq) * seq;
    // Scores P = Q K^T per (sample, head): column-major P^T = K Q^T.
    GS_BLAS(part_.libs().blas.GemmStridedBatchedEx(part_.blas(), CUBLAS_OP_T, CUBLAS_OP_N, seq, seq, d, &one, k, CUDA_R_16F,
                                                   d, sd, q, CUDA_R_16F, d, sd, &zero, scores, CUDA_R_16F, seq, ss,
                                                   b * heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    GS_CUDA(cuda::Softmax(scores, static_cast<int64_t>(b) * heads * seq, seq, 1.f / std::sqrt(static_cast<float>(d)), s));
    // Context O = P V: column-major O^T = V^T P^T.
    GS_BLAS(part_.libs().blas.GemmStridedBatchedEx(part_.blas(), CUBLAS_OP_N, CUBLAS_OP_N, d, seq, seq, &one, v, CUDA_R_16F,
                                                   d, sd, scores, CUDA_R_16F, seq, ss, &zero, context, CUDA_R_16F, d, sd,
                                                   b * heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    GS_CUDA(cuda::MergeHeads(context, y, b, seq, heads, d, s));
  });
}

CudaInference::CudaInference(CudaPartition& part, const ZooModel& model, int batch) : part_(part), batch_(batch) {
  part_.MakeCurrent();
  const cudaStream_t s = part_.stream();
  std::map<std::string, __half*> named;
  __half* current = nullptr;
  int32_t* tokens = nullptr;
  if (model.is_sequence()) {
    buffers_.push_back(std::make_unique<DeviceBuffer>(static_cast<size_t>(batch) * model.sequence() * sizeof(int32_t)));
    tokens = buffers_.back()->as<int32_t>();
  } else {
    current = Weights(static_cast<int64_t>(batch) * model.input().elements(), 1.f);  // the input images
  }
  for (const ZooOp& op : model.ops()) {
    __half* in = op.input.empty() ? current : named.at(op.input);
    const int64_t out_elems = static_cast<int64_t>(batch) * op.out_shape.elements();
    __half* out = nullptr;
    const int act = ActCode(op.act);
    switch (op.kind) {
      case ZooOpKind::kConv:
        out = Alloc(out_elems);
        AddConv(op, in, out);
        break;
      case ZooOpKind::kMaxPool: {
        out = Alloc(out_elems);
        const ZooOp o = op;
        const int b = batch;
        units_.push_back([this, in, out, o, b] {
          GS_CUDA(cuda::MaxPool(in, out, b, static_cast<int>(o.in.h), static_cast<int>(o.in.w), static_cast<int>(o.in.c),
                                o.kernel, o.stride, o.pad, static_cast<int>(o.out_shape.h), static_cast<int>(o.out_shape.w),
                                part_.stream()));
        });
        break;
      }
      case ZooOpKind::kAvgPool: {
        out = Alloc(out_elems);
        const int64_t positions = op.in.h * op.in.w;
        const int c = static_cast<int>(op.in.c), b = batch;
        units_.push_back([this, in, out, positions, c, b] {
          GS_CUDA(cuda::GlobalAvgPool(in, out, b, positions, c, part_.stream()));
        });
        break;
      }
      case ZooOpKind::kFlatten:
        out = in;  // NHWC: a view
        break;
      case ZooOpKind::kLinear:
        out = Alloc(out_elems);
        AddLinear(op, in, out, static_cast<int64_t>(batch) * op.in.h * op.in.w);
        break;
      case ZooOpKind::kAdd: {
        __half* other = named.at(op.other);
        out = in;
        const int64_t n = out_elems;
        units_.push_back([this, in, other, n, act] { GS_CUDA(cuda::AddActivation(in, other, n, act, part_.stream())); });
        break;
      }
      case ZooOpKind::kScale: {
        __half* features = named.at(op.other);
        out = features;
        const int64_t positions = op.other_shape.h * op.other_shape.w;
        const int c = static_cast<int>(op.other_shape.c), b = batch;
        units_.push_back([this, features, in, positions, c, b] {
          GS_CUDA(cuda::ScaleChannels(features, in, b, positions, c, part_.stream()));
        });
        break;
      }
      case ZooOpKind::kLayerNorm: {
        out = Alloc(out_elems);
        __half* gamma = Weights(op.in.c, 1.f);  // in [-1, 1]
        __half* beta = Weights(op.in.c, 0.1f);
        const int64_t rows = static_cast<int64_t>(batch) * op.in.h * op.in.w;
        const int c = static_cast<int>(op.in.c);
        units_.push_back([this, in, out, gamma, beta, rows, c] {
          GS_CUDA(cuda::LayerNorm(in, out, gamma, beta, rows, c, part_.stream()));
        });
        break;
      }
      case ZooOpKind::kAttention:
        out = Alloc(out_elems);
        AddAttention(op, in, out);
        break;
      case ZooOpKind::kEmbedding: {
        out = Alloc(out_elems);
        const int dim = op.out, seq = model.sequence(), b = batch;
        __half* word = Weights(op.tables[0] * dim, 0.05f);
        __half* position = Weights((op.tables.size() > 1 ? op.tables[1] : seq) * dim, 0.05f);
        __half* type = Weights((op.tables.size() > 2 ? op.tables[2] : 1) * dim, 0.05f);
        GS_CUDA(cuda::FillTokens(tokens, static_cast<int64_t>(b) * seq, static_cast<int>(op.tables[0]), 7, s));
        units_.push_back([this, word, position, type, out, seq, dim, b, tokens] {
          GS_CUDA(cuda::Embedding(tokens, word, position, type, out, b, seq, dim, part_.stream()));
        });
        break;
      }
      case ZooOpKind::kFirstToken: {
        out = Alloc(out_elems);
        const int seq = static_cast<int>(op.in.h * op.in.w), c = static_cast<int>(op.in.c), b = batch;
        units_.push_back([this, in, out, seq, c, b] { GS_CUDA(cuda::FirstToken(in, out, b, seq, c, part_.stream())); });
        break;
      }
      case ZooOpKind::kSave:
        named[op.other] = current;
        continue;
    }
    if (op.output.empty()) {
      current = out;
    } else {
      named[op.output] = out;
    }
  }
  output_ = current;
  output_elements_ = static_cast<int64_t>(batch) * model.ops().back().out_shape.elements();
  events_.resize(static_cast<size_t>(units()) + 3);
  for (cudaEvent_t& e : events_) GS_CUDA(cudaEventCreate(&e));
  // One eager run first: libraries load their kernels and pick plans outside any capture.
  for (const auto& unit : units_) unit();
  GS_CUDA(cudaStreamSynchronize(s));
  CaptureGraphs();
}

std::string CudaInference::Capture(int begin, int end, cudaGraphExec_t* exec) {
  const cudaStream_t s = part_.stream();
  cudaGraph_t graph = nullptr;
  cudaError_t err = cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) return std::string("cudaStreamBeginCapture: ") + cudaGetErrorString(err);
  std::string problem;
  try {
    for (int i = begin; i < end; ++i) units_[static_cast<size_t>(i)]();
  } catch (const GpuError& e) {
    problem = e.what();
  }
  err = cudaStreamEndCapture(s, &graph);
  if (problem.empty() && err != cudaSuccess) problem = std::string("cudaStreamEndCapture: ") + cudaGetErrorString(err);
  if (problem.empty()) {
    err = cudaGraphInstantiate(exec, graph, 0);
    if (err != cudaSuccess) problem = std::string("cudaGraphInstantiate: ") + cudaGetErrorString(err);
  }
  if (graph) cudaGraphDestroy(graph);
  if (!problem.empty()) {
    cudaGetLastError();  // capture errors are not sticky; clear them
    *exec = nullptr;
  }
  return problem;
}

void CudaInference::CaptureGraphs() {
  std::string problem;
  for (int i = 0; i < units() && problem.empty(); ++i) {
    cudaGraphExec_t g = nullptr;
    problem = Capture(i, i + 1, &g);
    if (g) unit_graphs_.push_back(g);
  }
  cudaGraphExec_t whole = nullptr;
  if (problem.empty()) problem = Capture(0, units(), &whole);
  if (problem.empty()) {
    whole_graph_ = whole;
    launch_mode_ = "cuda graphs";
    return;
  }
  for (cudaGraphExec_t g : unit_graphs_) cudaGraphExecDestroy(g);
  unit_graphs_.clear();
  launch_mode_ = "eager (graph capture failed: " + problem + ")";
}

std::unique_ptr<Inference> CudaPartition::Prepare(const ZooModel& model, int batch) {
  return std::make_unique<CudaInference>(*this, model, batch);
}

// ---- The device -----------------------------------------------------------------------------

class CudaDevice : public CalibrationDevice {
 public:
  explicit CudaDevice(int index) : index_(index) {
    if (void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL); driver == nullptr) {
      throw NoGpuError("no NVIDIA driver here (libcuda.so.1 does not load: " + std::string(dlerror()) + ")");
    }
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err == cudaErrorInsufficientDriver) {
      int driver = 0;
      cudaDriverGetVersion(&driver);
      throw NoGpuError("the NVIDIA driver (CUDA " + std::to_string(driver / 1000) + "." + std::to_string(driver % 1000 / 10) +
                       ") is older than this binary's CUDA runtime (" + std::to_string(CUDART_VERSION / 1000) + "." +
                       std::to_string(CUDART_VERSION % 1000 / 10) + "): " + RequiredDriver() +
                       "; update the driver or build with an older toolkit");
    }
    if (err != cudaSuccess || count == 0) {
      throw NoGpuError(std::string("no CUDA GPU here (") + (err != cudaSuccess ? cudaGetErrorString(err) : "no devices") + ")");
    }
    if (index < 0 || index >= count) {
      throw NoGpuError("no CUDA GPU " + std::to_string(index) + " (this machine has " + std::to_string(count) + ")");
    }
    GS_CUDA(cudaSetDevice(index));
    GS_CUDA(cudaFree(nullptr));  // creates the primary context
    libs_.driver.LoadAll();
    libs_.dnn.Open();
    libs_.blas.Open(SiblingLibraryFolders(libs_.dnn.path));
    GS_CU(libs_.driver, libs_.driver.CtxGetCurrent(&primary_));
    libs_.primary = primary_;
    GS_CU(libs_.driver, libs_.driver.DeviceGet(&dev_, index));
    GS_CU(libs_.driver, libs_.driver.DeviceGetDevResource(dev_, &sm_resource_, CU_DEV_RESOURCE_TYPE_SM));

    cudaDeviceProp prop{};
    GS_CUDA(cudaGetDeviceProperties(&prop, index));
    auto attr = [&](cudaDeviceAttr a) {
      int v = 0;
      return cudaDeviceGetAttribute(&v, a, index) == cudaSuccess ? v : 0;
    };
    info_.name = prop.name;
    info_.sm_count = static_cast<int>(sm_resource_.sm.smCount);
    info_.min_partition_sms = static_cast<int>(sm_resource_.sm.minSmPartitionSize);
    info_.partition_alignment_sms = static_cast<int>(sm_resource_.sm.smCoscheduledAlignment);
    info_.memory_gib = prop.totalGlobalMem / double(1ull << 30);
    const double mem_clock_khz = attr(cudaDevAttrMemoryClockRate), bus_bits = attr(cudaDevAttrGlobalMemoryBusWidth);
    info_.memory_bandwidth_gbps = 2.0 * mem_clock_khz * 1e3 * bus_bits / 8 / 1e9;
    const std::string name = info_.name;
    auto catalog = [&](const char* key, const char* catalog_name) {
      if (info_.profile_name.empty() && name.find(key) != std::string::npos) info_.profile_name = catalog_name;
    };
    catalog("H200", "H200-141GB");
    catalog("H100", "H100-80GB");
    catalog("A100-SXM4-80GB", "A100-80GB");
    catalog("A100 80GB", "A100-80GB");
    catalog("A100", "A100-40GB");
    catalog("L4", "L4");
    catalog("T4", "T4");
    catalog("V100", "V100-16GB");
    if (const GpuSpec* spec = FindGpuSpec(info_.profile_name)) {
      if (spec->sm_count != info_.sm_count) {
        info_.profile_name.clear();  // another variant (PCIe, NVL): measured by SM percent only
      } else if (info_.memory_bandwidth_gbps <= 0) {
        info_.memory_bandwidth_gbps = spec->mem_bandwidth_gbps;
      }
    }
    char pci[32] = {0};
    if (cudaDeviceGetPCIBusId(pci, sizeof pci, index) == cudaSuccess) nvml_.Open(pci);
    int driver = 0, runtime = 0;
    cudaDriverGetVersion(&driver);
    cudaRuntimeGetVersion(&runtime);
    int blas_version = 0;
    {
      cublasHandle_t h = nullptr;
      if (libs_.blas.Create(&h) == CUBLAS_STATUS_SUCCESS) {
        libs_.blas.GetVersion(h, &blas_version);
        libs_.blas.Destroy(h);
      }
    }
    info_.details = {{"compute_capability", std::to_string(prop.major) + "." + std::to_string(prop.minor)},
                     {"cuda_driver_version", driver},
                     {"cuda_runtime_version", runtime},
                     {"cublas_version", blas_version},
                     {"cudnn_version", static_cast<long>(libs_.dnn.GetVersion())},
                     {"cublas_path", libs_.blas.path},
                     {"cublaslt_path", libs_.blas.lt_path},
                     {"cublas_sm_count_target", libs_.blas.SetSmCountTarget != nullptr},
                     {"cudnn_path", libs_.dnn.path},
                     {"sm_clock_max_mhz", attr(cudaDevAttrClockRate) / 1000.0},
                     {"memory_clock_max_mhz", mem_clock_khz / 1000.0},
                     {"memory_bus_bits", bus_bits},
                     {"l2_bytes", attr(cudaDevAttrL2CacheSize)},
                     {"device_index", index},
                     {"pci_bus_id", pci},
                     {"nvml", nvml_.device != nullptr}};
  }

  const DeviceInfo& info() const override { return info_; }
  nlohmann::ordered_json Snapshot() override { return nvml_.Snapshot(); }

  std::vector<int> PartitionSizes() const override {
    std::vector<int> sizes;
    const int step = std::max(1, info_.partition_alignment_sms);
    const int first = std::max(step, info_.min_partition_sms);
    for (int s = first; s < info_.sm_count; s += step) sizes.push_back(s);
    sizes.push_back(info_.sm_count);
    return sizes;
  }

  std::unique_ptr<Partition> OpenPartition(int sm_count) override {
    GS_CUDA(cudaSetDevice(index_));
    if (sm_count >= info_.sm_count) {
      GS_CU(libs_.driver, libs_.driver.CtxSetCurrent(primary_));
      cudaStream_t stream = nullptr;
      GS_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
      return std::make_unique<CudaPartition>(libs_, primary_, nullptr, reinterpret_cast<CUstream>(stream), info_.sm_count);
    }
    return std::move(Split(sm_count, 1).front());
  }

  std::pair<std::unique_ptr<Partition>, std::unique_ptr<Partition>> OpenPair(int sm_count) override {
    std::vector<std::unique_ptr<Partition>> two = Split(sm_count, 2);
    return {std::move(two[0]), std::move(two[1])};
  }

  int group_count() override {
    SplitIntoGroups();
    return static_cast<int>(groups_.size());
  }
  int group_sms() override {
    SplitIntoGroups();
    return groups_.empty() ? 0 : static_cast<int>(groups_.front().sm.smCount);
  }
  // One green context over the union of the groups' SMs (cuDevResourceGenerateDesc takes
  // several SM resources of one split).
  std::unique_ptr<Partition> OpenGroups(const std::vector<int>& groups) override {
    SplitIntoGroups();
    Driver& d = libs_.driver;
    GS_CUDA(cudaSetDevice(index_));
    GS_CU(d, d.CtxSetCurrent(primary_));
    std::vector<CUdevResource> chosen;
    int sms = 0;
    for (int g : groups) {
      chosen.push_back(groups_.at(static_cast<size_t>(g)));
      sms += static_cast<int>(groups_[static_cast<size_t>(g)].sm.smCount);
    }
    return GreenPartition(chosen.data(), static_cast<unsigned>(chosen.size()), sms);
  }

 private:
  // A green context (and its stream) over the SMs of `resources`.
  std::unique_ptr<Partition> GreenPartition(CUdevResource* resources, unsigned count, int sms) {
    Driver& d = libs_.driver;
    CUdevResourceDesc desc = nullptr;
    GS_CU(d, d.DevResourceGenerateDesc(&desc, resources, count));
    CUgreenCtx green = nullptr;
    GS_CU(d, d.GreenCtxCreate(&green, desc, dev_, CU_GREEN_CTX_DEFAULT_STREAM));
    CUcontext ctx = nullptr;
    GS_CU(d, d.CtxFromGreenCtx(&ctx, green));
    GS_CU(d, d.CtxSetCurrent(ctx));
    CUstream stream = nullptr;
    GS_CU(d, d.GreenCtxStreamCreate(&stream, green, CU_STREAM_NON_BLOCKING, 0));
    return std::make_unique<CudaPartition>(libs_, ctx, green, stream, sms);
  }

  void SplitIntoGroups() {
    if (!groups_.empty()) return;
    const unsigned size = static_cast<unsigned>(std::max(1, std::max(info_.min_partition_sms, info_.partition_alignment_sms)));
    unsigned count = static_cast<unsigned>(info_.sm_count) / size;
    std::vector<CUdevResource> result(count);
    CUdevResource remaining{};
    GS_CU(libs_.driver, libs_.driver.CtxSetCurrent(primary_));
    GS_CU(libs_.driver, libs_.driver.DevSmResourceSplitByCount(result.data(), &count, &sm_resource_, &remaining, 0, size));
    result.resize(count);
    groups_ = std::move(result);
  }

  std::vector<std::unique_ptr<Partition>> Split(int sm_count, unsigned groups) {
    Driver& d = libs_.driver;
    GS_CU(d, d.CtxSetCurrent(primary_));
    std::vector<CUdevResource> result(groups);
    CUdevResource remaining{};
    unsigned made = groups;
    GS_CU(d, d.DevSmResourceSplitByCount(result.data(), &made, &sm_resource_, &remaining, 0,
                                         static_cast<unsigned>(sm_count)));
    if (made < groups) {
      throw GpuError("cannot split " + std::to_string(info_.sm_count) + " SMs into " + std::to_string(groups) +
                     " partitions of " + std::to_string(sm_count));
    }
    std::vector<std::unique_ptr<Partition>> parts;
    for (unsigned g = 0; g < groups; ++g) {
      parts.push_back(GreenPartition(&result[g], 1, static_cast<int>(result[g].sm.smCount)));
    }
    return parts;
  }

  int index_;
  Libraries libs_;
  CUcontext primary_ = nullptr;
  CUdevice dev_ = 0;
  CUdevResource sm_resource_{};
  DeviceInfo info_;
  Nvml nvml_;
  std::vector<CUdevResource> groups_;  // SplitIntoGroups()
};

}  // namespace

bool BuiltWithCuda() { return true; }

std::unique_ptr<CalibrationDevice> OpenLocalGpu(int device_index) { return std::make_unique<CudaDevice>(device_index); }

}  // namespace gpuslice
