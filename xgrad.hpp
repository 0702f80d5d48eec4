// xgrad: tensors, reverse-mode autodiff, optimizers and modules for small models (LibTorch-style).
#pragma once

#include <xtensor/xarray.hpp>  // from_xarray / to_xarray take and give xt::xarray

#include "autograd/autograd.hpp"
#include "autograd/creation.hpp"
#include "autograd/function.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/ops.hpp"
#include "autograd/tensor.hpp"
#include "nn/clip_grad.hpp"
#include "nn/containers.hpp"
#include "nn/data.hpp"
#include "nn/functional.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/module.hpp"
#include "nn/serialize.hpp"
#include "optim/adam.hpp"
#include "optim/optimizer.hpp"
#include "optim/schedulers.hpp"
#include "optim/sgd.hpp"
#include "tensor/dtype.hpp"
#include "tensor/memory.hpp"
#include "tensor/random.hpp"
#include "tensor/scalar.hpp"
#include "tensor/shape.hpp"
