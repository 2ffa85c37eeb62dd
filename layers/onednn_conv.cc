// oneDNN 2-D convolution for XLA:CPU, as three XLA FFI handlers.
//
// equivlab's core convolution is a cross-correlation of x [B, H, W, C] with
// kernel [kh, kw, C / G, D] (G feature groups, D = G * (D / G) outputs,
// group-major), zero pads, strides and dilations (layers/conv_lowering.py).
// This file computes it and its two transposes with oneDNN, the library
// PyTorch calls on CPUs:
//
//   equivlab_onednn_conv_forward        (x, kernel)  -> y        [B, H', W', D]
//   equivlab_onednn_conv_backward_data  (dy, kernel) -> dx       [B, H, W, C]
//   equivlab_onednn_conv_backward_weights (x, dy)    -> dkernel  [kh, kw, C/G, D]
//
// All arrays are XLA's dense row-major float32 buffers. Activations are
// passed to oneDNN as they are (its "nhwc" tag); the kernel is reordered
// into the layout the chosen oneDNN implementation prefers (and the filter
// gradient back out of it) on every call: it is small, and it changes every
// training step.
//
// The attributes (int64 scalars) are the strides sh, sw, the zero pads
// pt, pb, pl, pr (>= 0, with exactly the rows and columns the strides use:
// layers/onednn.py trims them), the dilations dh, dw (1 = none; oneDNN counts
// from 0) and the feature groups g. Shapes come from the buffers.
//
// Primitive descriptors and primitives are built once per configuration and
// cached (a map keyed by every shape and attribute). Calls are serialised
// by one mutex: each primitive already uses every core through OpenMP, and
// two at once (XLA may run the input and the filter gradients concurrently)
// would only oversubscribe the cores. The OpenMP team size is set with
// equivlab_onednn_set_threads before every primitive runs.
//
// Built on first use by layers/onednn.py with the system C++ compiler:
//   c++ -O2 -std=c++17 -shared -fPIC onednn_conv.cc -I<jax.ffi.include_dir()>
//       -I<oneDNN include> -L<oneDNN lib> -ldnnl -fopenmp

#include <omp.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>

#include "oneapi/dnnl/dnnl.hpp"
#include "xla/ffi/api/ffi.h"

namespace ffi = xla::ffi;

namespace {

using dnnl::algorithm;
using dnnl::memory;
using dnnl::prop_kind;
using tag = dnnl::memory::format_tag;

int g_threads = 0;  // 0: OpenMP's own default

struct Geometry {
  int64_t n, h, w, c;     // input  [B, H, W, C]
  int64_t kh, kw, d;      // kernel [kh, kw, C / g, D]
  int64_t oh, ow;         // output [B, H', W', D]
  int64_t sh, sw, pt, pb, pl, pr, dh, dw, g;

  std::string key(const char* role) const {
    std::ostringstream s;
    s << role << ' ' << n << ' ' << h << ' ' << w << ' ' << c << ' ' << kh
      << ' ' << kw << ' ' << d << ' ' << sh << ' ' << sw << ' ' << pt << ' '
      << pb << ' ' << pl << ' ' << pr << ' ' << dh << ' ' << dw << ' ' << g;
    return s.str();
  }

  // The dims oneDNN uses: activations NCHW (laid out nhwc), weights OIHW or
  // GOIHW (laid out as the HWIO / HW(I/G)(G O/G) kernel of JAX).
  memory::desc src() const {
    return memory::desc({n, c, h, w}, memory::data_type::f32, tag::nhwc);
  }
  memory::desc dst() const {
    return memory::desc({n, d, oh, ow}, memory::data_type::f32, tag::nhwc);
  }
  memory::dims weight_dims() const {
    if (g == 1) return {d, c, kh, kw};
    return {g, d / g, c / g, kh, kw};
  }
  memory::desc user_weights() const {
    const int64_t ci = c / g;  // input channels per group
    // Element (kh_i, kw_i, i, o) of the JAX kernel is at
    // ((kh_i * kw + kw_i) * ci + i) * d + o, with o = group * (d / g) + oo.
    if (g == 1) {
      return memory::desc(weight_dims(), memory::data_type::f32,
                          memory::dims{1, d, kw * ci * d, ci * d});
    }
    return memory::desc(weight_dims(), memory::data_type::f32,
                        memory::dims{d / g, 1, d, kw * ci * d, ci * d});
  }
  memory::desc any_weights() const {
    return memory::desc(weight_dims(), memory::data_type::f32, tag::any);
  }
  memory::dims strides() const { return {sh, sw}; }
  memory::dims dilations() const { return {dh - 1, dw - 1}; }
  memory::dims pad_l() const { return {pt, pl}; }
  memory::dims pad_r() const { return {pb, pr}; }
};

dnnl::engine& Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// Every primitive gets its own scratchpad buffer (below) instead of oneDNN's
// per-thread global one: XLA calls a handler from whichever of its threads
// runs the program, and the global scratchpad of one thread was seen to be
// too small for a primitive created on another (a crash in the gemm-based
// filter gradient).
dnnl::primitive_attr Attributes() {
  dnnl::primitive_attr attributes;
  attributes.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attributes;
}

dnnl::convolution_forward::primitive_desc ForwardDesc(const Geometry& q,
                                                      prop_kind kind) {
  return dnnl::convolution_forward::primitive_desc(
      Engine(), kind, algorithm::convolution_direct, q.src(),
      q.any_weights(), q.dst(), q.strides(), q.dilations(), q.pad_l(),
      q.pad_r(), Attributes());
}

// One cached configuration: the primitive and the kernel reorder around it.
struct Entry {
  dnnl::primitive conv;
  memory::desc weights;     // the layout the primitive wants
  bool reorder = false;     // whether that differs from the JAX kernel
  dnnl::reorder to_or_from;  // user -> internal (forward, backward data) or
                             // internal -> user (backward weights)
  std::unique_ptr<memory> scratch;  // the kernel in the internal layout
  std::unique_ptr<memory> scratchpad;  // the primitive's working memory
};

std::mutex g_mutex;
std::unordered_map<std::string, std::unique_ptr<Entry>> g_cache;

enum class Role { kForward, kBackwardData, kBackwardWeights };

Entry& Lookup(const Geometry& q, Role role) {
  static const char* names[] = {"forward", "backward_data", "backward_weights"};
  const std::string key = q.key(names[static_cast<int>(role)]);
  auto it = g_cache.find(key);
  if (it != g_cache.end()) return *it->second;

  auto entry = std::make_unique<Entry>();
  const memory::desc user = q.user_weights();
  if (role == Role::kForward) {
    auto pd = ForwardDesc(q, prop_kind::forward_inference);
    entry->weights = pd.weights_desc();
    entry->conv = dnnl::convolution_forward(pd);
    entry->scratchpad = std::make_unique<memory>(pd.scratchpad_desc(),
                                                 Engine());
  } else if (role == Role::kBackwardData) {
    auto hint = ForwardDesc(q, prop_kind::forward_training);
    dnnl::convolution_backward_data::primitive_desc pd(
        Engine(), algorithm::convolution_direct, q.src(), q.any_weights(),
        q.dst(), q.strides(), q.dilations(), q.pad_l(), q.pad_r(), hint,
        Attributes());
    entry->weights = pd.weights_desc();
    entry->conv = dnnl::convolution_backward_data(pd);
    entry->scratchpad = std::make_unique<memory>(pd.scratchpad_desc(),
                                                 Engine());
  } else {
    auto hint = ForwardDesc(q, prop_kind::forward_training);
    dnnl::convolution_backward_weights::primitive_desc pd(
        Engine(), algorithm::convolution_direct, q.src(), q.any_weights(),
        q.dst(), q.strides(), q.dilations(), q.pad_l(), q.pad_r(), hint,
        Attributes());
    entry->weights = pd.diff_weights_desc();
    entry->conv = dnnl::convolution_backward_weights(pd);
    entry->scratchpad = std::make_unique<memory>(pd.scratchpad_desc(),
                                                 Engine());
  }
  entry->reorder = entry->weights != user;
  if (entry->reorder) {
    entry->scratch = std::make_unique<memory>(entry->weights, Engine());
    if (role == Role::kBackwardWeights) {
      entry->to_or_from = dnnl::reorder(
          dnnl::reorder::primitive_desc(Engine(), entry->weights, Engine(),
                                        user));
    } else {
      entry->to_or_from = dnnl::reorder(
          dnnl::reorder::primitive_desc(Engine(), user, Engine(),
                                        entry->weights));
    }
  }
  Entry& result = *entry;
  g_cache.emplace(key, std::move(entry));
  return result;
}

// Fills the geometry from the activation and kernel shapes and attributes.
ffi::Error MakeGeometry(ffi::Span<const int64_t> x, ffi::Span<const int64_t> k,
                        ffi::Span<const int64_t> y, int64_t sh, int64_t sw,
                        int64_t pt, int64_t pb, int64_t pl, int64_t pr,
                        int64_t dh, int64_t dw, int64_t g, Geometry* q) {
  if (x.size() != 4 || k.size() != 4 || y.size() != 4) {
    return ffi::Error::InvalidArgument("onednn conv: arrays must be rank 4");
  }
  *q = Geometry{x[0], x[1], x[2], x[3], k[0], k[1], k[3], y[1], y[2],
                sh,   sw,   pt,   pb,   pl,   pr,   dh,   dw,   g};
  if (g < 1 || x[3] != k[2] * g || k[3] % g != 0 || y[0] != x[0] ||
      y[3] != k[3] || sh < 1 || sw < 1 || dh < 1 || dw < 1 || pt < 0 ||
      pb < 0 || pl < 0 || pr < 0) {
    return ffi::Error::InvalidArgument("onednn conv: inconsistent shapes or "
                                       "attributes");
  }
  return ffi::Error::Success();
}

bool Empty(const Geometry& q) {
  return q.n == 0 || q.oh == 0 || q.ow == 0 || q.c == 0 || q.d == 0;
}

// Runs one role under the lock with the configured OpenMP team.
ffi::Error Run(const Geometry& q, Role role, float* a, float* b, float* out) {
  try {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_threads > 0) omp_set_num_threads(g_threads);
    Entry& e = Lookup(q, role);
    dnnl::stream stream(Engine());
    const memory::desc user = q.user_weights();
    // The forward pass and backward data read the kernel (b), in the
    // primitive's layout.
    auto kernel = [&]() {
      memory weights(user, Engine(), b);
      if (!e.reorder) return weights;
      e.to_or_from.execute(stream, weights, *e.scratch);
      return *e.scratch;
    };
    if (role == Role::kForward) {  // a = x
      e.conv.execute(stream, {{DNNL_ARG_SRC, memory(q.src(), Engine(), a)},
                              {DNNL_ARG_WEIGHTS, kernel()},
                              {DNNL_ARG_DST, memory(q.dst(), Engine(), out)},
                              {DNNL_ARG_SCRATCHPAD, *e.scratchpad}});
    } else if (role == Role::kBackwardData) {  // a = dy
      e.conv.execute(stream,
                     {{DNNL_ARG_DIFF_DST, memory(q.dst(), Engine(), a)},
                      {DNNL_ARG_WEIGHTS, kernel()},
                      {DNNL_ARG_DIFF_SRC, memory(q.src(), Engine(), out)},
                      {DNNL_ARG_SCRATCHPAD, *e.scratchpad}});
    } else {  // a = x, b = dy
      memory src(q.src(), Engine(), a), diff_dst(q.dst(), Engine(), b);
      memory user_diff(user, Engine(), out);
      memory diff_weights = e.reorder ? *e.scratch : user_diff;
      e.conv.execute(stream, {{DNNL_ARG_SRC, src},
                              {DNNL_ARG_DIFF_DST, diff_dst},
                              {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                              {DNNL_ARG_SCRATCHPAD, *e.scratchpad}});
      if (e.reorder) e.to_or_from.execute(stream, diff_weights, user_diff);
    }
    stream.wait();
  } catch (const dnnl::error& error) {
    return ffi::Error::Internal(std::string("oneDNN: ") + error.what());
  } catch (const std::exception& error) {
    return ffi::Error::Internal(std::string("onednn conv: ") + error.what());
  }
  return ffi::Error::Success();
}

// The handler of one role. Its operands (a, b) and result are (x, kernel) ->
// y for the forward pass, (dy, kernel) -> dx for backward data and (x, dy) ->
// dkernel for backward weights; the geometry reads x, kernel and y's shapes
// from whichever of them each role has.
template <Role role>
ffi::Error Handler(ffi::Buffer<ffi::F32> a, ffi::Buffer<ffi::F32> b,
                   ffi::ResultBuffer<ffi::F32> out, int64_t sh, int64_t sw,
                   int64_t pt, int64_t pb, int64_t pl, int64_t pr, int64_t dh,
                   int64_t dw, int64_t g) {
  const auto x = role == Role::kBackwardData ? out->dimensions()
                                             : a.dimensions();
  const auto kernel = role == Role::kBackwardWeights ? out->dimensions()
                                                     : b.dimensions();
  const auto y = role == Role::kForward        ? out->dimensions()
                 : role == Role::kBackwardData ? a.dimensions()
                                               : b.dimensions();
  Geometry q;
  ffi::Error error =
      MakeGeometry(x, kernel, y, sh, sw, pt, pb, pl, pr, dh, dw, g, &q);
  if (error.failure()) return error;
  if (Empty(q)) {
    std::memset(out->typed_data(), 0, out->element_count() * sizeof(float));
    return ffi::Error::Success();
  }
  return Run(q, role, a.typed_data(), b.typed_data(), out->typed_data());
}

}  // namespace

// Each symbol: two float32 operands, one float32 result, nine int64 attributes.
#define EQUIVLAB_CONV_HANDLER(symbol, role)                                \
  XLA_FFI_DEFINE_HANDLER_SYMBOL(                                           \
      symbol, Handler<role>,                                               \
      ffi::Ffi::Bind()                                                     \
          .Arg<ffi::Buffer<ffi::F32>>()                                    \
          .Arg<ffi::Buffer<ffi::F32>>()                                    \
          .Ret<ffi::Buffer<ffi::F32>>()                                    \
          .Attr<int64_t>("sh").Attr<int64_t>("sw").Attr<int64_t>("pt")     \
          .Attr<int64_t>("pb").Attr<int64_t>("pl").Attr<int64_t>("pr")     \
          .Attr<int64_t>("dh").Attr<int64_t>("dw").Attr<int64_t>("g"))

EQUIVLAB_CONV_HANDLER(equivlab_onednn_conv_forward, Role::kForward);
EQUIVLAB_CONV_HANDLER(equivlab_onednn_conv_backward_data,
                      Role::kBackwardData);
EQUIVLAB_CONV_HANDLER(equivlab_onednn_conv_backward_weights,
                      Role::kBackwardWeights);

// Plain C entry points for ctypes.
extern "C" {

// Sets the OpenMP team of every later primitive (0: OpenMP's default).
void equivlab_onednn_set_threads(int threads) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_threads = threads;
}

// The number of cached configurations (for tests and logs).
int equivlab_onednn_cache_size() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return static_cast<int>(g_cache.size());
}

}  // extern "C"
