// Creating tensors and reading them back: the smallest end-to-end check of the public API.
#include <gtest/gtest.h>

#include <xgrad/xgrad.hpp>

TEST(TensorBasics, CreateAndReduce) {
  const xg::Tensor zeros = xg::zeros({2, 3});
  EXPECT_EQ(zeros.numel(), 6);
  EXPECT_EQ(zeros.shape(), (xg::Shape{2, 3}));
  EXPECT_EQ(zeros.dtype(), xg::kFloat32);
  EXPECT_EQ(xg::ones({2}).sum().item(), 2.0);
}

TEST(TensorBasics, IsSameSize) {
  EXPECT_TRUE(xg::zeros({2, 3}).is_same_size(xg::ones({2, 3}, xg::kFloat64)));
  EXPECT_FALSE(xg::zeros({2, 3}).is_same_size(xg::zeros({3, 2})));
  EXPECT_FALSE(xg::zeros({6}).is_same_size(xg::zeros({2, 3})));
  EXPECT_TRUE(xg::scalar_tensor(1).is_same_size(xg::scalar_tensor(2)));
}
