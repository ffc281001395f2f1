// The calibration runner's own kernels: the element-wise, normalisation and data-movement
// layers of the zoo (convolutions and matrix products go to cuDNN and cuBLAS). Tensors are
// fp16, NHWC; arithmetic in fp32. Each function launches on `stream` and returns the launch
// status; none synchronises.
#ifndef GPUSLICE_GPU_CALIBRATE_CUDA_KERNELS_H_
#define GPUSLICE_GPU_CALIBRATE_CUDA_KERNELS_H_

#include <cstdint>

#include <cuda_fp16.h>
#include <cuda_runtime.h>

namespace gpuslice::cuda {

// Activation codes, as gpuslice::Activation.
enum ActCode : int { kActNone = 0, kActRelu, kActHardSwish, kActHardSigmoid, kActGelu, kActTanh };

// Uniform values in [-scale, scale] from a hash of the index and seed.
cudaError_t FillRandom(__half* x, int64_t n, float scale, uint32_t seed, cudaStream_t stream);
// Random token ids in [0, vocab).
cudaError_t FillTokens(int32_t* ids, int64_t n, int vocab, uint32_t seed, cudaStream_t stream);
// y[r, c] = act(y[r, c] + bias[c]) (bias may be null).
cudaError_t BiasActivation(__half* y, const __half* bias, int64_t rows, int channels, int act, cudaStream_t stream);
// y = act(y + x), element-wise.
cudaError_t AddActivation(__half* y, const __half* x, int64_t n, int act, cudaStream_t stream);
// x[n, p, c] *= s[n, c] for every position p.
cudaError_t ScaleChannels(__half* x, const __half* s, int batch, int64_t positions, int channels, cudaStream_t stream);
// y[n, c] = mean over positions of x[n, p, c].
cudaError_t GlobalAvgPool(const __half* x, __half* y, int batch, int64_t positions, int channels, cudaStream_t stream);
cudaError_t MaxPool(const __half* x, __half* y, int batch, int h, int w, int c, int kernel, int stride, int pad, int out_h,
                    int out_w, cudaStream_t stream);
// Per row of `channels`: (x - mean) / sqrt(var + 1e-12) * gamma + beta.
cudaError_t LayerNorm(const __half* x, __half* y, const __half* gamma, const __half* beta, int64_t rows, int channels,
                      cudaStream_t stream);
// Per row of `cols`: softmax(scale * x), in place.
cudaError_t Softmax(__half* x, int64_t rows, int cols, float scale, cudaStream_t stream);
// y[n, s, :] = word[ids[n, s]] + position[s] + type[0].
cudaError_t Embedding(const int32_t* ids, const __half* word, const __half* position, const __half* type, __half* y,
                      int batch, int seq, int dim, cudaStream_t stream);
// [n, s, 3, heads, d] -> [3, n, heads, s, d].
cudaError_t SplitHeads(const __half* qkv, __half* out, int batch, int seq, int heads, int head_dim, cudaStream_t stream);
// [n, heads, s, d] -> [n, s, heads, d].
cudaError_t MergeHeads(const __half* x, __half* y, int batch, int seq, int heads, int head_dim, cudaStream_t stream);
// y[n, c] = x[n, 0, c].
cudaError_t FirstToken(const __half* x, __half* y, int batch, int seq, int channels, cudaStream_t stream);

}  // namespace gpuslice::cuda

#endif  // GPUSLICE_GPU_CALIBRATE_CUDA_KERNELS_H_
