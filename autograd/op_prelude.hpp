// What the op files (autograd/*_ops.cpp) share, by short names: the recording API
// (record.hpp), the tensor internals and checks (tensor_impl.hpp), the check macros and the
// kernels. Included by those .cpp files only.
#pragma once

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "ops.hpp"
#include "record.hpp"
#include "tensor_impl.hpp"

namespace xg {

using autograd::BackwardArgs;
using autograd::kSaveBoth;
using autograd::kSaveInputs;
using autograd::kSaveNone;
using autograd::kSaveOutput;
using autograd::record;
using Grads = autograd::GradientList;
using detail::array_of;
using detail::check_defined;
using detail::describe;
using detail::make_tensor;
using kernels::BinaryOp;
using kernels::UnaryOp;

}  // namespace xg
