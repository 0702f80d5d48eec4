// A character-level language model in the style of Bengio et al. 2003 (and of Karpathy's
// makemore, part 2): the previous three characters of a word predict the next one. It trains on
// a list of words with AdamW on mini-batches and then makes up words of its own.
#include "char_lm.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <numbers>
#include <ostream>
#include <random>
#include <stdexcept>
#include <unordered_set>

#include "checkpoint_checks.hpp"
#include "data_parallel.hpp"

namespace char_lm {

namespace {

constexpr double kValidationFraction = 0.1;
constexpr double kFinalLrFactor = 0.05;    // the cosine ends at lr * kFinalLrFactor
constexpr std::int64_t kEvalChunk = 8192;  // rows per forward when evaluating a whole set
constexpr std::size_t kMaxSampleLength = 30;

std::int64_t char_id(char c) { return c == kBoundary ? 0 : c - 'a' + 1; }
char id_char(std::int64_t id) { return id == 0 ? kBoundary : static_cast<char>('a' + id - 1); }

// A uniform double in [0, 1) from 53 random bits: the same draws with any standard library.
double uniform01(std::mt19937_64& engine) {
  return static_cast<double>(engine() >> 11) * 0x1.0p-53;
}

// Cosine decay from lr at step 1 to lr * kFinalLrFactor at the last step.
double lr_at(const Options& opts, std::int64_t step) {
  const double progress =
      opts.steps <= 1 ? 1.0 : static_cast<double>(step - 1) / static_cast<double>(opts.steps - 1);
  const double low = opts.lr * kFinalLrFactor;
  return low + (opts.lr - low) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

// The mean cross-entropy over every example, in chunks, without recording a graph.
double mean_loss(CharMLP& model, const Examples& examples) {
  xg::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const std::int64_t n = examples.targets.size(0);
  double total = 0;
  for (std::int64_t start = 0; start < n; start += kEvalChunk) {
    const std::int64_t length = std::min(kEvalChunk, n - start);
    const xg::Tensor logits = model.forward(examples.contexts.narrow(0, start, length));
    total += xg::nn::functional::cross_entropy(logits, examples.targets.narrow(0, start, length),
                                               xg::nn::Reduction::Sum)
                 .item();
  }
  model.train(was_training);
  return total / static_cast<double>(n);
}

}  // namespace

std::vector<std::string> clean_words(std::istream& in) {
  std::vector<std::string> words;
  std::unordered_set<std::string> seen;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::transform(line.begin(), line.end(), line.begin(), [](char c) {
      return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
    });
    const bool letters_only = !line.empty() && std::all_of(line.begin(), line.end(), [](char c) {
      return c >= 'a' && c <= 'z';
    });
    if (letters_only && seen.insert(line).second) words.push_back(line);
  }
  return words;
}

std::vector<std::string> read_words(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot read the word list '" + path +
                             "' (Debian's wamerican package provides /usr/share/dict/words; "
                             "--data picks another file of one word per line)");
  }
  std::vector<std::string> words = clean_words(in);
  if (words.size() < 2) {
    throw std::runtime_error("'" + path + "' has " + std::to_string(words.size()) +
                             " words of letters a-z alone; at least 2 are needed");
  }
  return words;
}

Split split_words(std::vector<std::string> words, std::uint64_t seed) {
  if (words.size() < 2) throw std::invalid_argument("split_words: needs at least 2 words");
  std::mt19937_64 engine(seed);
  for (std::size_t i = words.size() - 1; i > 0; --i) {
    std::swap(words[i], words[engine() % (i + 1)]);
  }
  const auto held_out = std::max<std::size_t>(
      1, static_cast<std::size_t>(kValidationFraction * static_cast<double>(words.size())));
  const auto cut = words.end() - static_cast<std::ptrdiff_t>(held_out);
  return {{words.begin(), cut}, {cut, words.end()}};
}

Examples make_examples(const std::vector<std::string>& words) {
  std::vector<double> contexts, targets;
  for (const std::string& word : words) {
    std::int64_t context[kContext] = {};  // all '.'
    for (std::size_t i = 0; i <= word.size(); ++i) {
      const std::int64_t next = i < word.size() ? char_id(word[i]) : 0;
      contexts.insert(contexts.end(), context, context + kContext);
      targets.push_back(static_cast<double>(next));
      std::shift_left(context, context + kContext, 1);
      context[kContext - 1] = next;
    }
  }
  const auto n = static_cast<std::int64_t>(targets.size());
  return {xg::tensor(contexts, {n, kContext}, xg::kInt64), xg::tensor(targets, xg::kInt64)};
}

CharMLP::CharMLP(std::int64_t emb_dim, std::int64_t hidden_size) : Module("CharMLP") {
  embedding = register_module("embedding", std::make_shared<xg::nn::Embedding>(kVocab, emb_dim));
  hidden =
      register_module("hidden", std::make_shared<xg::nn::Linear>(kContext * emb_dim, hidden_size));
  output = register_module("output", std::make_shared<xg::nn::Linear>(hidden_size, kVocab));
  steps_trained = register_buffer("steps_trained", xg::scalar_tensor(0, xg::kInt64));
}

xg::Tensor CharMLP::forward(const xg::Tensor& contexts) {
  const xg::Tensor embedded = embedding->forward(contexts).flatten(1);  // [B, kContext * emb]
  return output->forward(xg::tanh(hidden->forward(embedded)));
}

std::vector<std::string> sample_words(CharMLP& model, int count, std::uint64_t seed) {
  xg::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::mt19937_64 engine(seed);
  std::vector<std::string> words;
  for (int w = 0; w < count; ++w) {
    std::vector<double> context(kContext, 0.0);
    std::string word;
    while (word.size() < kMaxSampleLength) {
      const xg::Tensor logits = model.forward(xg::tensor(context, {1, kContext}, xg::kInt64));
      const xg::Tensor probs = xg::softmax(logits.to(xg::kFloat64), 1);
      const double* p = probs.data_ptr<double>();
      // The first id whose cumulative probability passes u; the last one if rounding leaves
      // the sum short of u.
      const double u = uniform01(engine);
      std::int64_t next = kVocab - 1;
      double cumulative = 0;
      for (std::int64_t id = 0; id < kVocab; ++id) {
        cumulative += p[id];
        if (u < cumulative) {
          next = id;
          break;
        }
      }
      if (next == 0) break;
      word += id_char(next);
      std::shift_left(context.begin(), context.end(), 1);
      context.back() = static_cast<double>(next);
    }
    words.push_back(word);
  }
  model.train(was_training);
  return words;
}

namespace {

Result train_rank(const Options& opts, std::ostream& out, examples::DataParallel& parallel) {
  if (opts.steps < 0 || opts.batch_size <= 0 || opts.eval_every <= 0 || !(opts.lr > 0)) {
    throw std::invalid_argument("steps must be >= 0, and batch size, eval-every and lr > 0");
  }
  // Each random stream has its own seed derived from opts.seed: the split, the initial
  // weights (xg's generator), the order of the batches and the samples.
  const Split split = split_words(read_words(opts.data), opts.seed);
  const Examples train = make_examples(split.train);
  const Examples validation = make_examples(split.validation);
  out << opts.data << ": " << split.train.size() + split.validation.size() << " words, "
      << split.train.size() << " for training (" << train.targets.size(0) << " characters), "
      << split.validation.size() << " for validation (" << validation.targets.size(0)
      << " characters)\n";

  xg::manual_seed(opts.seed + 1);
  const auto model_handle = std::make_shared<CharMLP>(opts.emb, opts.hidden);
  CharMLP& model = *model_handle;
  parallel.wrap(model_handle);
  xg::optim::AdamW optimizer(model.parameters(), xg::optim::AdamWOptions(opts.lr));
  std::int64_t parameter_count = 0;
  for (const xg::Tensor& p : model.parameters()) parameter_count += p.numel();
  out << "model: context " << kContext << ", embedding " << opts.emb << ", hidden " << opts.hidden
      << ", " << parameter_count << " parameters\n";

  std::int64_t step = 0;
  if (!opts.resume.empty()) {
    examples::check_checkpoint(opts.resume, model);
    xg::load(model, optimizer, opts.resume);
    step = examples::checkpoint_step<std::int64_t>(
        std::to_string(model.steps_trained.item<std::int64_t>()), "steps_trained", opts.resume);
    out << "resumed from " << opts.resume << " at step " << step << '\n';
  }
  const bool lead = parallel.rank() == 0;  // evaluates, prints and saves
  auto checkpoint = [&] {
    model.steps_trained.fill_(step);
    if (lead) xg::save(model, optimizer, opts.save);
  };

  // Replaying the sampler to the checkpoint's step makes a resumed run draw the batches the
  // uninterrupted run would have (with the same number of ranks). With several ranks, each
  // deals out its own shard of every epoch's order (DistributedSampler).
  const std::int64_t n = train.targets.size(0);
  xg::nn::BatchSampler sampler =
      parallel.world() == 1 ? xg::nn::BatchSampler(n, opts.batch_size, true, opts.seed + 2)
                            : xg::nn::BatchSampler(xg::nn::DistributedSampler(
                                                       n, parallel.world(), parallel.rank(), true,
                                                       opts.seed + 2, /*drop_last=*/true),
                                                   opts.batch_size);
  if (parallel.world() > 1) {
    out << "data parallel: " << parallel.world() << " ranks x batch " << opts.batch_size << " = "
        << parallel.world() * opts.batch_size << " examples per step, " << xg::get_num_threads()
        << (xg::get_num_threads() > 1 ? " threads" : " thread") << " per rank\n";
  }
  for (std::int64_t i = 0; i < step; ++i) sampler.next();

  out << std::fixed << std::setprecision(4);
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t first_step = step;
  double running_loss = 0;
  std::int64_t running_count = 0;
  while (step < opts.steps) {
    ++step;
    const double lr = lr_at(opts, step);
    for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
    const xg::Tensor batch = sampler.next();
    const xg::Tensor logits = parallel.forward(model, train.contexts.index_select(0, batch));
    const xg::Tensor loss =
        xg::nn::functional::cross_entropy(logits, train.targets.index_select(0, batch));
    optimizer.zero_grad();
    parallel.backward(loss);  // with several ranks, the gradients are averaged over them
    optimizer.step();
    running_loss += loss.item();
    ++running_count;
    if (step % opts.eval_every == 0 || step == opts.steps) {
      // The training loss over every rank's batches.
      const double train_loss = parallel.mean(running_loss / static_cast<double>(running_count));
      if (lead) {
        out << "step " << step << '/' << opts.steps << "  lr " << std::setprecision(6) << lr
            << std::setprecision(4) << "  train " << train_loss << "  val "
            << mean_loss(model, validation) << std::endl;
      }
      running_loss = 0;
      running_count = 0;
      if (!opts.save.empty()) checkpoint();
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
  if (!opts.save.empty() && step == first_step) checkpoint();

  Result result;
  result.steps = step;
  result.seconds = elapsed.count();
  if (!lead) return result;
  result.train_loss = mean_loss(model, train);
  result.validation_loss = mean_loss(model, validation);
  result.samples = sample_words(model, opts.samples, opts.seed + 3);
  out << "final train loss " << result.train_loss << '\n';
  out << "final val loss " << result.validation_loss << '\n';
  out << std::setprecision(1) << "training time " << result.seconds << " s (" << step - first_step
      << " steps)\n";
  out << "samples:\n";
  for (const std::string& word : result.samples) out << "  " << word << '\n';
  return result;
}

}  // namespace

Result run(const Options& opts, std::ostream& out) {
  examples::DataParallel parallel;
  if (parallel.rank() == 0) return train_rank(opts, out, parallel);
  std::ostream silent(nullptr);  // only rank 0 prints
  return train_rank(opts, silent, parallel);
}

}  // namespace char_lm
