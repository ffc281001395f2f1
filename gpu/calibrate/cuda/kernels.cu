#include "gpu/calibrate/cuda/kernels.h"

#include <cfloat>

namespace gpuslice::cuda {
namespace {

constexpr int kThreads = 256;

int Blocks(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 65535 * 32 ? (b > 0 ? b : 1) : 65535 * 32);
}

__device__ __forceinline__ float Act(float v, int act) {
  switch (act) {
    case kActRelu: return fmaxf(v, 0.f);
    case kActHardSwish: return v * fminf(fmaxf(v + 3.f, 0.f), 6.f) / 6.f;
    case kActHardSigmoid: return fminf(fmaxf(v + 3.f, 0.f), 6.f) / 6.f;
    case kActGelu: return 0.5f * v * (1.f + tanhf(0.7978845608f * (v + 0.044715f * v * v * v)));
    case kActTanh: return tanhf(v);
    default: return v;
  }
}

__device__ __forceinline__ uint32_t Hash(uint64_t i, uint32_t seed) {
  uint64_t z = i * 0x9E3779B97F4A7C15ull + seed;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<uint32_t>(z ^ (z >> 31));
}

__global__ void FillRandomKernel(__half* x, int64_t n, float scale, uint32_t seed) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const float u = Hash(i, seed) * (1.0f / 4294967296.0f);
    x[i] = __float2half((2.f * u - 1.f) * scale);
  }
}

__global__ void FillTokensKernel(int32_t* ids, int64_t n, int vocab, uint32_t seed) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    ids[i] = static_cast<int32_t>(Hash(i, seed) % static_cast<uint32_t>(vocab));
  }
}

__global__ void BiasActivationKernel(__half* y, const __half* bias, int64_t n, int channels, int act) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    float v = __half2float(y[i]);
    if (bias) v += __half2float(bias[i % channels]);
    y[i] = __float2half(Act(v, act));
  }
}

__global__ void AddActivationKernel(__half* y, const __half* x, int64_t n, int act) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    y[i] = __float2half(Act(__half2float(y[i]) + __half2float(x[i]), act));
  }
}

__global__ void ScaleChannelsKernel(__half* x, const __half* s, int64_t positions, int channels, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t c = i % channels, sample = i / (positions * channels);
    x[i] = __float2half(__half2float(x[i]) * __half2float(s[sample * channels + c]));
  }
}

// Block (32 channels x 8 position lanes) per (sample, 32 channels): coalesced across
// channels, 8 lanes of positions summed in parallel, then reduced in shared memory.
__global__ void GlobalAvgPoolKernel(const __half* x, __half* y, int64_t positions, int channels) {
  __shared__ float partial[8][33];
  const int c = blockIdx.y * 32 + threadIdx.x;
  const int64_t sample = blockIdx.x;
  float sum = 0;
  if (c < channels) {
    const __half* base = x + sample * positions * channels + c;
#pragma unroll 4
    for (int64_t p = threadIdx.y; p < positions; p += 8) sum += __half2float(base[p * channels]);
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < channels) {
    float total = 0;
    for (int i = 0; i < 8; ++i) total += partial[i][threadIdx.x];
    y[sample * channels + c] = __float2half(total / positions);
  }
}

__global__ void MaxPoolKernel(const __half* x, __half* y, int batch, int h, int w, int c, int kernel, int stride, int pad,
                              int out_h, int out_w) {
  const int64_t n = (int64_t)batch * out_h * out_w * c;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int ch = i % c;
    const int ox = (i / c) % out_w, oy = (i / ((int64_t)c * out_w)) % out_h;
    const int64_t sample = i / ((int64_t)c * out_w * out_h);
    float best = -FLT_MAX;
    for (int ky = 0; ky < kernel; ++ky) {
      const int iy = oy * stride - pad + ky;
      if (iy < 0 || iy >= h) continue;
      for (int kx = 0; kx < kernel; ++kx) {
        const int ix = ox * stride - pad + kx;
        if (ix < 0 || ix >= w) continue;
        best = fmaxf(best, __half2float(x[((sample * h + iy) * w + ix) * c + ch]));
      }
    }
    y[i] = __float2half(best);
  }
}

__device__ float BlockSum(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float total = 0;
  for (int i = 0; i < (int)(blockDim.x / 32); ++i) total += shared[i];
  return total;
}

__device__ float BlockMax(float v, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  float m = -FLT_MAX;
  for (int i = 0; i < (int)(blockDim.x / 32); ++i) m = fmaxf(m, shared[i]);
  return m;
}

// One block per row.
__global__ void LayerNormKernel(const __half* x, __half* y, const __half* gamma, const __half* beta, int channels) {
  __shared__ float shared[32];
  const __half* row = x + (int64_t)blockIdx.x * channels;
  __half* out = y + (int64_t)blockIdx.x * channels;
  float sum = 0;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) sum += __half2float(row[c]);
  const float mean = BlockSum(sum, shared) / channels;
  float sq = 0;
  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    const float d = __half2float(row[c]) - mean;
    sq += d * d;
  }
  const float inv = rsqrtf(BlockSum(sq, shared) / channels + 1e-12f);
  for (int c = threadIdx.x; c < channels; c += blockDim.x) {
    out[c] = __float2half((__half2float(row[c]) - mean) * inv * __half2float(gamma[c]) + __half2float(beta[c]));
  }
}

__global__ void SoftmaxKernel(__half* x, int cols, float scale) {
  __shared__ float shared[32];
  __half* row = x + (int64_t)blockIdx.x * cols;
  float m = -FLT_MAX;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, scale * __half2float(row[c]));
  m = BlockMax(m, shared);
  float sum = 0;
  for (int c = threadIdx.x; c < cols; c += blockDim.x) sum += __expf(scale * __half2float(row[c]) - m);
  sum = BlockSum(sum, shared);
  for (int c = threadIdx.x; c < cols; c += blockDim.x) {
    row[c] = __float2half(__expf(scale * __half2float(row[c]) - m) / sum);
  }
}

__global__ void EmbeddingKernel(const int32_t* ids, const __half* word, const __half* position, const __half* type,
                                __half* y, int seq, int dim, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int d = i % dim;
    const int64_t token = i / dim;
    const int s = token % seq;
    const float v = __half2float(word[(int64_t)ids[token] * dim + d]) + __half2float(position[(int64_t)s * dim + d]) +
                    __half2float(type[d]);
    y[i] = __float2half(v);
  }
}

__global__ void SplitHeadsKernel(const __half* qkv, __half* out, int batch, int seq, int heads, int head_dim, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    // i indexes the input [b, s, which, h, d].
    const int d = i % head_dim;
    const int h = (i / head_dim) % heads;
    const int which = (i / ((int64_t)head_dim * heads)) % 3;
    const int s = (i / ((int64_t)head_dim * heads * 3)) % seq;
    const int64_t b = i / ((int64_t)head_dim * heads * 3 * seq);
    const int64_t o = ((((int64_t)which * batch + b) * heads + h) * seq + s) * head_dim + d;
    out[o] = qkv[i];
  }
}

__global__ void MergeHeadsKernel(const __half* x, __half* y, int seq, int heads, int head_dim, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    // i indexes the input [b, h, s, d].
    const int d = i % head_dim;
    const int s = (i / head_dim) % seq;
    const int h = (i / ((int64_t)head_dim * seq)) % heads;
    const int64_t b = i / ((int64_t)head_dim * seq * heads);
    y[((b * seq + s) * heads + h) * head_dim + d] = x[i];
  }
}

__global__ void FirstTokenKernel(const __half* x, __half* y, int seq, int channels, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t b = i / channels;
    y[i] = x[b * seq * channels + i % channels];
  }
}

}  // namespace

cudaError_t FillRandom(__half* x, int64_t n, float scale, uint32_t seed, cudaStream_t stream) {
  FillRandomKernel<<<Blocks(n), kThreads, 0, stream>>>(x, n, scale, seed);
  return cudaGetLastError();
}
cudaError_t FillTokens(int32_t* ids, int64_t n, int vocab, uint32_t seed, cudaStream_t stream) {
  FillTokensKernel<<<Blocks(n), kThreads, 0, stream>>>(ids, n, vocab, seed);
  return cudaGetLastError();
}
cudaError_t BiasActivation(__half* y, const __half* bias, int64_t rows, int channels, int act, cudaStream_t stream) {
  const int64_t n = rows * channels;
  BiasActivationKernel<<<Blocks(n), kThreads, 0, stream>>>(y, bias, n, channels, act);
  return cudaGetLastError();
}
cudaError_t AddActivation(__half* y, const __half* x, int64_t n, int act, cudaStream_t stream) {
  AddActivationKernel<<<Blocks(n), kThreads, 0, stream>>>(y, x, n, act);
  return cudaGetLastError();
}
cudaError_t ScaleChannels(__half* x, const __half* s, int batch, int64_t positions, int channels, cudaStream_t stream) {
  const int64_t n = (int64_t)batch * positions * channels;
  ScaleChannelsKernel<<<Blocks(n), kThreads, 0, stream>>>(x, s, positions, channels, n);
  return cudaGetLastError();
}
cudaError_t GlobalAvgPool(const __half* x, __half* y, int batch, int64_t positions, int channels, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>(batch), static_cast<unsigned>((channels + 31) / 32));
  GlobalAvgPoolKernel<<<grid, dim3(32, 8), 0, stream>>>(x, y, positions, channels);
  return cudaGetLastError();
}
cudaError_t MaxPool(const __half* x, __half* y, int batch, int h, int w, int c, int kernel, int stride, int pad, int out_h,
                    int out_w, cudaStream_t stream) {
  MaxPoolKernel<<<Blocks((int64_t)batch * out_h * out_w * c), kThreads, 0, stream>>>(x, y, batch, h, w, c, kernel, stride,
                                                                                       pad, out_h, out_w);
  return cudaGetLastError();
}
cudaError_t LayerNorm(const __half* x, __half* y, const __half* gamma, const __half* beta, int64_t rows, int channels,
                      cudaStream_t stream) {
  LayerNormKernel<<<static_cast<unsigned>(rows), kThreads, 0, stream>>>(x, y, gamma, beta, channels);
  return cudaGetLastError();
}
cudaError_t Softmax(__half* x, int64_t rows, int cols, float scale, cudaStream_t stream) {
  SoftmaxKernel<<<static_cast<unsigned>(rows), 128, 0, stream>>>(x, cols, scale);
  return cudaGetLastError();
}
cudaError_t Embedding(const int32_t* ids, const __half* word, const __half* position, const __half* type, __half* y,
                      int batch, int seq, int dim, cudaStream_t stream) {
  const int64_t n = (int64_t)batch * seq * dim;
  EmbeddingKernel<<<Blocks(n), kThreads, 0, stream>>>(ids, word, position, type, y, seq, dim, n);
  return cudaGetLastError();
}
cudaError_t SplitHeads(const __half* qkv, __half* out, int batch, int seq, int heads, int head_dim, cudaStream_t stream) {
  const int64_t n = (int64_t)batch * seq * 3 * heads * head_dim;
  SplitHeadsKernel<<<Blocks(n), kThreads, 0, stream>>>(qkv, out, batch, seq, heads, head_dim, n);
  return cudaGetLastError();
}
cudaError_t MergeHeads(const __half* x, __half* y, int batch, int seq, int heads, int head_dim, cudaStream_t stream) {
  const int64_t n = (int64_t)batch * seq * heads * head_dim;
  MergeHeadsKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, seq, heads, head_dim, n);
  return cudaGetLastError();
}
cudaError_t FirstToken(const __half* x, __half* y, int batch, int seq, int channels, cudaStream_t stream) {
  const int64_t n = (int64_t)batch * channels;
  FirstTokenKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, seq, channels, n);
  return cudaGetLastError();
}

}  // namespace gpuslice::cuda
