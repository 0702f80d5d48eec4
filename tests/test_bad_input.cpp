// Input a careless or hostile caller gives: shapes whose element count overflows int64, empty
// tensors with huge dims, module cycles, another optimizer's options, hooks and .grad values
// that change a gradient's shape, numbers that do not fit Int64. Each must end in a documented
// exception (or a defined result), never a crash, a hang or a silently wrong tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;

constexpr std::int64_t kHuge = (std::int64_t{1} << 62) + 1;  // times 4 wraps to 4

// The what() of the std::invalid_argument that f throws ("" if it throws nothing or another type).
template <class F>
std::string invalid_argument_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (...) {
    return "another exception";
  }
  return "";
}

// ---- element counts that overflow -----------------------------------------------------------

TEST(BadShapes, CreationRefusesCountsThatOverflow) {
  const std::string msg = "storage size calculation overflowed with sizes=[4611686018427387905, 4]";
  EXPECT_EQ(invalid_argument_of([] { xg::zeros({kHuge, 4}); }), "zeros: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::ones({kHuge, 4}); }), "ones: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::full({kHuge, 4}, 1.0); }), "full: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::empty({kHuge, 4}); }), "empty: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::randn({kHuge, 4}); }), "randn: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::rand({kHuge, 4}); }), "rand: " + msg);
  EXPECT_EQ(invalid_argument_of([] { xg::randint(0, 5, {kHuge, 4}); }), "randint: " + msg);
  EXPECT_EQ(invalid_argument_of([] {
              xg::tensor({1, 2, 3, 4}, Shape{kHuge, 4});
            }),
            "tensor: " + msg);
  // 2^64 elements wrapped to 0 before.
  EXPECT_EQ(invalid_argument_of([] {
              xg::zeros({std::int64_t{1} << 32, std::int64_t{1} << 32});
            }),
            "zeros: storage size calculation overflowed with sizes=[4294967296, 4294967296]");
  // 2^62 elements fit in int64, their 2^64 bytes (Float32) do not; Int64's 2^65 neither.
  const Shape bytes_overflow{std::int64_t{1} << 61, 2};
  EXPECT_NE(invalid_argument_of([&] { xg::zeros(bytes_overflow); }), "");
  EXPECT_NE(invalid_argument_of([&] { xg::zeros(bytes_overflow, xg::kInt64); }), "");
}

TEST(BadShapes, EmptyTensorsWhoseOtherSizesOverflowAreRefused) {
  // PyTorch accepts [0, 2^62 + 1, 4] and fails later; xgrad refuses it where it is made.
  EXPECT_EQ(invalid_argument_of([] {
              xg::zeros({0, kHuge, 4});
            }),
            "zeros: storage size calculation overflowed with sizes=[0, 4611686018427387905, 4]");
}

TEST(BadShapes, ShapeOpsRefuseCountsThatOverflow) {
  const Tensor four = xg::ones({4});
  EXPECT_NE(invalid_argument_of([&] { xg::reshape(four, {kHuge, 4}); }), "");
  EXPECT_NE(invalid_argument_of([&] { four.view({kHuge, 4}); }), "");
  EXPECT_NE(invalid_argument_of([&] { xg::reshape(four, {-1, kHuge, 4}); }), "");
  EXPECT_EQ(invalid_argument_of([] {
              xg::expand(xg::ones({1, 1}), {kHuge, 4});
            }),
            "expand: storage size calculation overflowed with sizes=[4611686018427387905, 4]");
  // The two results of a cat along dim 1 add up past int64 (2^60 Float32 elements are 2^62
  // bytes each; eight of them are 2^63 elements).
  const Tensor wide = xg::zeros({0, std::int64_t{1} << 60});
  EXPECT_EQ(invalid_argument_of([&] { xg::cat(std::vector<Tensor>(8, wide), 1); }),
            "cat: the sizes along dim 1 add up to more than int64 can hold");
  EXPECT_EQ(invalid_argument_of([&] {
              xg::cat({wide, wide}, 1);
            }),
            "cat: storage size calculation overflowed with sizes=[0, 2305843009213693952]");
}

TEST(BadShapes, BroadcastResultsThatOverflowAreRefused) {
  const Tensor tall = xg::zeros({0, std::int64_t{1} << 40, 1});
  const Tensor row = xg::zeros({std::int64_t{1} << 24});
  EXPECT_EQ(invalid_argument_of([&] { tall + row; }),
            "add: storage size calculation overflowed with sizes=[0, 1099511627776, 16777216]");
}

TEST(BadShapes, NarrowOutsideItsDimThrowsWithoutOverflowing) {
  const Tensor x = xg::zeros({5, 4});
  EXPECT_THROW(x.narrow(0, 1000, 1), std::out_of_range);
  EXPECT_THROW(x.narrow(0, 2, std::numeric_limits<std::int64_t>::max()), std::out_of_range);
}

TEST(BadShapes, LayersRefuseSizesThatOverflow) {
  EXPECT_EQ(invalid_argument_of([] { xg::nn::Linear(4, kHuge); }),
            "Linear: storage size calculation overflowed with sizes=[4611686018427387905, 4]");
  EXPECT_EQ(invalid_argument_of([] { xg::nn::Embedding(kHuge, 4); }),
            "Embedding: storage size calculation overflowed with sizes=[4611686018427387905, 4]");
}

TEST(BadShapes, RangesThatCannotBeCountedAreRefused) {
  EXPECT_EQ(invalid_argument_of([] { xg::arange(0.0, 1e30, 1.0); }),
            "arange: invalid size, possible overflow? (start 0.000000, end "
            "1000000000000000019884624838656.000000, step 1.000000 give "
            "1000000000000000019884624838656.000000 elements)");
  EXPECT_NE(invalid_argument_of([] { xg::arange(0.0, -1e30, -1.0); }), "");
  EXPECT_NE(invalid_argument_of([] { xg::linspace(0, 1, std::int64_t{1} << 62); }), "");
}

TEST(BadShapes, EmptyTensorsWithLargeDimsReduceWithoutLooping) {
  // 2^40 rows of nothing: every kernel must see there is nothing to do, not count the rows.
  const Tensor rows = xg::zeros({std::int64_t{1} << 40, 0});
  EXPECT_EQ(rows.sum({0}).shape(), Shape{0});
  EXPECT_EQ(rows.amax({0}).shape(), Shape{0});
  EXPECT_EQ(xg::argmax(rows, 0).shape(), Shape{0});
  EXPECT_EQ(xg::softmax(rows, 0).shape(), (Shape{std::int64_t{1} << 40, 0}));
  EXPECT_EQ(xg::logsumexp(rows, {0}).shape(), Shape{0});
  EXPECT_EQ(xg::cat({rows, rows}, 1).shape(), (Shape{std::int64_t{1} << 40, 0}));
  EXPECT_EQ(xg::index_select(rows, 1, xg::tensor(std::vector<double>{}, xg::kInt64)).shape(),
            (Shape{std::int64_t{1} << 40, 0}));
  EXPECT_EQ(xg::matmul(rows, xg::zeros({0, 0})).shape(), (Shape{std::int64_t{1} << 40, 0}));
  EXPECT_EQ(xg::matmul(xg::zeros({std::int64_t{1} << 40, 0, 2}), xg::zeros({2, 0})).shape(),
            (Shape{std::int64_t{1} << 40, 0, 0}));
  const Tensor leaf =
      xg::zeros({std::int64_t{1} << 40, 0}, xg::TensorOptions().requires_grad(true));
  xg::sum(leaf * 2).backward();
  EXPECT_EQ(leaf.grad().shape(), leaf.shape());
}

TEST(BadShapes, AShapeTooLargeToAllocateNamesTheBytes) {
  try {
    xg::zeros({std::int64_t{1} << 40, std::int64_t{1} << 10});
    FAIL() << "allocated 4 PiB";
  } catch (const xg::OutOfMemoryError& e) {
    EXPECT_EQ(std::string(e.what()),
              "out of memory: cannot allocate 4503599627370496 bytes for a [1099511627776, 1024] "
              "Float32 tensor");
    // Still a std::bad_alloc, for code that catches that.
    EXPECT_NE(dynamic_cast<const std::bad_alloc*>(&e), nullptr);
  }
  // A result shape derived inside a kernel: the sum of 2^40 empty rows is 2^40 zeros.
  EXPECT_THROW(xg::zeros({0, std::int64_t{1} << 40}).sum({0}), xg::OutOfMemoryError);
}

// ---- modules --------------------------------------------------------------------------------

TEST(BadModules, RegisteringAModuleInsideItselfIsRefused) {
  auto a = std::make_shared<xg::nn::Module>("A");
  EXPECT_EQ(invalid_argument_of([&] { a->register_module("self", a); }),
            "A: registering submodule 'self' would make a cycle: this module would be its own "
            "descendant at 'self'");
  auto b = std::make_shared<xg::nn::Module>("B");
  auto c = std::make_shared<xg::nn::Module>("C");
  a->register_module("b", b);
  b->register_module("c", c);
  EXPECT_EQ(invalid_argument_of([&] { c->register_module("a", a); }),
            "C: registering submodule 'a' would make a cycle: this module would be its own "
            "descendant at 'a.b.c'");
  // Nothing was registered: the walks still end.
  EXPECT_TRUE(c->named_children().empty());
  EXPECT_TRUE(a->parameters().empty());
  a->train(false);
  EXPECT_FALSE(c->is_training());
}

TEST(BadModules, AModuleSharedByTwoParentsIsNoCycle) {
  auto top = std::make_shared<xg::nn::Module>("Top");
  auto left = std::make_shared<xg::nn::Module>("Left");
  auto right = std::make_shared<xg::nn::Module>("Right");
  auto shared = std::make_shared<xg::nn::Linear>(2, 2);
  left->register_module("fc", shared);
  right->register_module("fc", shared);
  top->register_module("left", left);
  EXPECT_NO_THROW(top->register_module("right", right));
}

// ---- optimizers -----------------------------------------------------------------------------

TEST(BadOptimizers, AGroupWithAnotherOptimizersOptionsIsRefused) {
  Tensor w = xg::ones({1}, xg::TensorOptions().requires_grad(true));
  std::vector<xg::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<Tensor>{w}, std::make_unique<xg::optim::AdamOptions>(0.1));
  EXPECT_EQ(invalid_argument_of([&] { xg::optim::SGD(groups, xg::optim::SGDOptions(0.1)); }),
            "SGD: parameter group 0 has another optimizer's options; SGD takes SGDOptions");
  std::vector<xg::optim::OptimizerParamGroup> sgd_groups;
  sgd_groups.emplace_back(std::vector<Tensor>{w}, std::make_unique<xg::optim::SGDOptions>(0.1));
  EXPECT_NE(invalid_argument_of([&] { xg::optim::Adam{sgd_groups}; }), "");
  EXPECT_NE(invalid_argument_of([&] { xg::optim::AdamW{sgd_groups}; }), "");
  // And a group added later.
  xg::optim::SGD sgd({w}, xg::optim::SGDOptions(0.1));
  EXPECT_THROW(sgd.add_param_group(groups[0]), std::invalid_argument);
  EXPECT_EQ(sgd.param_groups().size(), 1u);
}

TEST(BadOptimizers, AnEmptyParameterListIsRefused) {
  EXPECT_EQ(invalid_argument_of(
                [] { xg::optim::SGD(std::vector<Tensor>{}, xg::optim::SGDOptions(0.1)); }),
            "SGD: optimizer got an empty parameter list");
  EXPECT_EQ(invalid_argument_of([] { xg::optim::Adam(std::vector<Tensor>{}); }),
            "Adam: optimizer got an empty parameter list");
  EXPECT_EQ(invalid_argument_of([] { xg::optim::AdamW(std::vector<Tensor>{}); }),
            "AdamW: optimizer got an empty parameter list");
  std::vector<xg::optim::OptimizerParamGroup> empty_groups;
  empty_groups.emplace_back(std::vector<Tensor>{});
  EXPECT_NE(invalid_argument_of([&] { xg::optim::SGD(empty_groups, xg::optim::SGDOptions(0.1)); }),
            "");
}

// ---- gradients whose shape or dtype changes ---------------------------------------------------

std::string runtime_error_of_backward(const Tensor& loss) {
  try {
    loss.backward();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(BadGradients, AHookThatChangesTheShapeOrDtypeIsRefused) {
  Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
  x.register_hook([](const Tensor&) { return xg::ones({3}); });
  EXPECT_EQ(runtime_error_of_backward(xg::sum(x * 2)),
            "backward: hook has changed the size or dtype of value: the gradient is [2] Float32, "
            "the hook returned [3] Float32");
  EXPECT_FALSE(x.grad().defined());

  Tensor y = xg::ones({2}, xg::TensorOptions().requires_grad(true));
  y.register_hook([](const Tensor& g) { return g.to(xg::kFloat64); });
  EXPECT_NE(runtime_error_of_backward(xg::sum(y * 2)), "");

  Tensor z = xg::ones({2}, xg::TensorOptions().requires_grad(true));
  Tensor mid = z * 2;
  mid.register_hook([](const Tensor&) { return xg::ones({2, 2}); });
  EXPECT_NE(runtime_error_of_backward(xg::sum(mid)), "");
  EXPECT_FALSE(z.grad().defined());
}

TEST(BadGradients, AGradAssignedWithTheWrongShapeIsNamed) {
  Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
  x.mutable_grad() = xg::zeros({3});
  EXPECT_EQ(runtime_error_of_backward(xg::sum(x * 2)),
            "backward: .grad holds a [3] Float32 tensor but the gradient is [2] Float32 "
            "(assigned grad has data of a different size or dtype); reset it with "
            "mutable_grad() = {}");
  // A .grad of the right shape but another dtype would be added with a silent conversion.
  x.mutable_grad() = xg::zeros({2}, xg::kFloat64);
  EXPECT_NE(runtime_error_of_backward(xg::sum(x * 2)), "");
  // With create_graph the old path broadcast [1] + [2] into a [2] .grad without a word.
  x.mutable_grad() = xg::zeros({1});
  EXPECT_THROW(xg::autograd::backward({xg::sum(x * 2)}, {}, std::nullopt, true),
               std::runtime_error);
}

TEST(BadGradients, SetDataAfterTheForwardIsRefusedByTheBackward) {
  Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
  Tensor loss = xg::sum(x * x);  // saves x
  {
    xg::NoGradGuard no_grad;
    x.set_data(xg::ones({3}));
  }
  const std::string what = runtime_error_of_backward(loss);
  EXPECT_EQ(what,
            "backward: a tensor needed for gradient computation by MulBackward (mul on [2] "
            "Float32, [2] Float32) had its data replaced by set_data after the forward, now [3] "
            "Float32; call set_data after backward, or run the forward again");
}

// ---- numbers that do not fit Int64 ----------------------------------------------------------

TEST(BadNumbers, Int64ConversionsThatOverflowThrow) {
  const double nan = std::nan("");
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(invalid_argument_of([&] { xg::tensor({nan}).item<std::int64_t>(); }),
            "item: value nan cannot be converted to Int64 without overflow");
  EXPECT_NE(invalid_argument_of([&] { xg::tensor({inf}).item<std::int64_t>(); }), "");
  EXPECT_NE(invalid_argument_of([] { xg::tensor({1e19}, xg::kFloat64).item<std::int64_t>(); }), "");
  EXPECT_EQ(xg::tensor({-9223372036854775808.0}, xg::kFloat64).item<std::int64_t>(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(invalid_argument_of([&] { xg::full({2}, nan, xg::kInt64); }),
            "full: value nan cannot be converted to Int64 without overflow");
  const std::string huge = invalid_argument_of([] { xg::tensor({1e300}, xg::kInt64); });
  EXPECT_EQ(huge.rfind("tensor: value 10000000000000000525", 0), 0u) << huge;
  EXPECT_NE(huge.find(" cannot be converted to Int64 without overflow"), std::string::npos);
  Tensor i = xg::zeros({2}, xg::kInt64);
  EXPECT_NE(invalid_argument_of([&] { i.fill_(nan); }), "");
  EXPECT_EQ(i.data_ptr<std::int64_t>()[0], 0);
  // A conversion of a whole tensor is not refused, as in PyTorch, but it is defined: x86's
  // INT64_MIN for NaN and for values past int64.
  const Tensor converted = xg::tensor({nan, 1e30, -2.5}).to(xg::kInt64);
  EXPECT_EQ(converted.data_ptr<std::int64_t>()[0], std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(converted.data_ptr<std::int64_t>()[1], std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(converted.data_ptr<std::int64_t>()[2], -2);
}

TEST(BadNumbers, DropoutRefusesANanProbability) {
  EXPECT_EQ(invalid_argument_of([] { xg::nn::functional::dropout(xg::ones({3}), std::nan("")); }),
            "dropout: p must be in [0, 1], got nan");
}

TEST(BadNumbers, TakingMoreBatchesThanAVectorHoldsIsRefused) {
  xg::nn::BatchSampler sampler(10, 2);
  EXPECT_EQ(invalid_argument_of([&] { sampler.take(1e18); }),
            "BatchSampler::take: 1000000000000000000.000000 epochs are "
            "5000000000000000000.000000 batches, more than one vector can hold; take fewer at a "
            "time");
  EXPECT_EQ(sampler.epoch(), 0);
}

}  // namespace
