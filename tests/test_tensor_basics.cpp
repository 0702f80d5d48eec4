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

// xg::Shape keeps up to six sizes inline and more on the heap; it is built from braced lists
// and std::vector<int64_t>, converts back, and edits like a vector.
TEST(ShapeType, BuiltConvertedAndEditedLikeAVector) {
  const std::vector<std::int64_t> v{2, 3, 4};
  const xg::Shape from_vector = v;
  EXPECT_EQ(from_vector, (xg::Shape{2, 3, 4}));
  const std::vector<std::int64_t> back = from_vector;
  EXPECT_EQ(back, v);
  EXPECT_EQ(xg::zeros(v).shape(), from_vector);
  EXPECT_TRUE(xg::Shape{}.empty());
  EXPECT_EQ(xg::Shape(3, 7), (xg::Shape{7, 7, 7}));

  xg::Shape s{1, 2};
  s.insert(s.begin() + 1, 9);  // [1, 9, 2]
  s.push_back(5);              // [1, 9, 2, 5]
  s.erase(s.begin());          // [9, 2, 5]
  EXPECT_EQ(s, (xg::Shape{9, 2, 5}));
  EXPECT_EQ(s.front(), 9);
  EXPECT_EQ(s.back(), 5);
  EXPECT_THROW((void)s.at(3), std::out_of_range);
  EXPECT_NE(s, (xg::Shape{9, 2}));
}

TEST(ShapeType, MoreThanSixDimsCopiesAndMovesIntact) {
  xg::Shape s;
  for (std::int64_t i = 1; i <= 9; ++i) s.push_back(i);  // past the inline six
  const xg::Shape copy = s;
  xg::Shape moved = std::move(s);
  EXPECT_EQ(copy.size(), 9u);
  EXPECT_EQ(moved, copy);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(copy[i], static_cast<std::int64_t>(i + 1));
  moved.insert(moved.begin(), copy.begin(), copy.begin() + 2);  // [1, 2, 1, 2, ..., 9]
  EXPECT_EQ(moved.size(), 11u);
  EXPECT_EQ(moved[2], 1);
  moved.resize(2);
  EXPECT_EQ(moved, (xg::Shape{1, 2}));
  const xg::Tensor t = xg::zeros(xg::Shape(8, 1));
  EXPECT_EQ(t.dim(), 8);
  EXPECT_EQ(t.shape(), xg::Shape(8, 1));
}

// Inserting a shape's own elements into it, past its inline room, reads them before it grows
// (std::vector allows the same for its own range only by copying first, as this does).
TEST(ShapeType, InsertingItsOwnElements) {
  xg::Shape s{1, 2, 3, 4, 5};
  s.insert(s.begin() + 1, s.begin(), s.end());
  EXPECT_EQ(s, (xg::Shape{1, 1, 2, 3, 4, 5, 2, 3, 4, 5}));
  s.insert(s.end(), s.begin(), s.begin() + 3);
  EXPECT_EQ(s, (xg::Shape{1, 1, 2, 3, 4, 5, 2, 3, 4, 5, 1, 1, 2}));
}
