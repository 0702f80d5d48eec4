// A small GPT in the manner of karpathy/nanoGPT: model.py's architecture and train.py's loop,
// with the shakespeare_char recipe for a CPU as the defaults (docs/guide.md, "Train a small GPT").
#include "gpt.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <numbers>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "checkpoint_checks.hpp"
#include "data_parallel.hpp"

namespace gpt {

using xg::Tensor;
using xg::indexing::None;
using xg::indexing::Slice;

namespace {

constexpr double kTrainFraction = 0.9;  // the first 90% of the text trains, the rest validates
constexpr double kInitStd = 0.02;
constexpr std::int64_t kEvalWindows = 32;  // windows per forward in full_split_loss

// Seeds of the random streams, from --seed: the initial weights come from the default generator
// (seeded with seed itself); the others are generators the run owns, so that evaluation and
// sampling do not move the training batches.
enum StreamOffset : std::uint64_t {
  kTrainBatches = 1,
  kEvalBatches = 2,
  kDropout = 3,
  kSample = 4
};

// The seed of a stream of training batches (its windows, or its dropout masks): stream 0 is the
// one-process run's, seed + offset; stream s adds s x 2^32.
std::uint64_t stream_seed(std::uint64_t seed, StreamOffset offset, std::int64_t stream) {
  return seed + offset + (static_cast<std::uint64_t>(stream) << 32);
}

// The metadata keys of stream s: "gpt.mixture" for stream 0 (as one-process checkpoints have
// it), "gpt.mixture.1" for stream 1, ...
std::string stream_key(const std::string& key, std::int64_t stream) {
  return stream == 0 ? key : key + "." + std::to_string(stream);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read the text '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::int64_t metadata_number(const xg::Metadata& metadata, const std::string& key,
                             const std::string& path, std::int64_t min) {
  const std::string& text = examples::required_metadata(metadata, key, path);
  const std::int64_t value = examples::checkpoint_step<std::int64_t>(text, key, path);
  if (value < min) {
    throw std::invalid_argument("--resume: " + path + ": " + key + " " + text +
                                " is below its least value, " + std::to_string(min));
  }
  return value;
}

// The architecture and vocabulary a checkpoint was written with.
Config config_from(const xg::Metadata& metadata, const std::string& path) {
  Config c;
  c.block_size = metadata_number(metadata, "gpt.block_size", path, 1);
  c.n_layer = metadata_number(metadata, "gpt.n_layer", path, 1);
  c.n_head = metadata_number(metadata, "gpt.n_head", path, 1);
  c.n_embd = metadata_number(metadata, "gpt.n_embd", path, 1);
  c.bias = metadata_number(metadata, "gpt.bias", path, 0) != 0;
  if (c.n_embd % c.n_head != 0) {
    throw std::invalid_argument("--resume: " + path + ": n_embd is not a multiple of n_head");
  }
  return c;
}

void check_config(const Config& c) {
  if (c.block_size < 1 || c.n_layer < 1 || c.n_head < 1 || c.n_embd < 1 || c.vocab_size < 1) {
    throw std::invalid_argument("block size, layers, heads, width and vocabulary must be >= 1");
  }
  if (c.n_embd % c.n_head != 0) {
    throw std::invalid_argument("--n-embd " + std::to_string(c.n_embd) +
                                " is not a multiple of --n-head " + std::to_string(c.n_head));
  }
  if (!(c.dropout >= 0 && c.dropout < 1)) {
    throw std::invalid_argument("--dropout must be in [0, 1)");
  }
}

// The optimizer's two groups, as nanoGPT's configure_optimizers: weight decay on the parameters
// of two or more dims (the matrices and embeddings), none on the rest (LayerNorm weights, biases).
xg::optim::AdamW make_optimizer(GPT& model, const Options& opts) {
  std::vector<Tensor> decay, no_decay;
  for (const Tensor& p : model.parameters()) {
    if (p.requires_grad()) (p.dim() >= 2 ? decay : no_decay).push_back(p);  // not the frozen ones
  }
  const auto defaults = xg::optim::AdamWOptions(opts.learning_rate)
                            .betas({opts.beta1, opts.beta2})
                            .eps(1e-8)
                            .weight_decay(opts.weight_decay);
  std::vector<xg::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decay, std::make_unique<xg::optim::AdamWOptions>(defaults));
  groups.emplace_back(no_decay, std::make_unique<xg::optim::AdamWOptions>(
                                    xg::optim::AdamWOptions(defaults).weight_decay(0.0)));
  return xg::optim::AdamW(std::move(groups), defaults);
}

// nanoGPT's get_lr from the library's schedulers: LinearLR from lr / (warmup + 1) to lr over the
// warmup (lr (it + 1) / (warmup + 1) at iteration it), then a cosine from lr at the end of the
// warmup to min_lr at lr_decay_iters, min_lr after it.
std::shared_ptr<xg::optim::LRScheduler> make_schedule(xg::optim::Optimizer& optimizer,
                                                      const Options& opts) {
  const double lr = opts.learning_rate, min_lr = opts.min_lr;
  const std::int64_t warmup = opts.warmup_iters, decay_iters = opts.lr_decay_iters;
  auto cosine = std::make_shared<xg::optim::LambdaLR>(optimizer, [=](std::int64_t epoch) {
    const std::int64_t it = epoch + warmup;
    if (it > decay_iters) return min_lr / lr;
    const double ratio =
        static_cast<double>(it - warmup) / static_cast<double>(decay_iters - warmup);
    const double coeff = 0.5 * (1.0 + std::cos(std::numbers::pi * ratio));
    return (min_lr + coeff * (lr - min_lr)) / lr;
  });
  if (warmup == 0) return cosine;
  auto warmup_schedule = std::make_shared<xg::optim::LinearLR>(
      optimizer, 1.0 / static_cast<double>(warmup + 1), 1.0, warmup);
  return std::make_shared<xg::optim::SequentialLR>(
      optimizer, std::vector<std::shared_ptr<xg::optim::LRScheduler>>{warmup_schedule, cosine},
      std::vector<std::int64_t>{warmup});
}

// nanoGPT's estimate_loss: the mean loss of eval_iters random batches of each split.
std::pair<double, double> estimate_loss(GPT& model, const Tensor& train, const Tensor& val,
                                        const Options& opts, xg::Generator& generator) {
  xg::NoGradGuard no_grad;
  model.eval();
  double means[2] = {0, 0};
  const Tensor* splits[2] = {&train, &val};
  for (int s = 0; s < 2; ++s) {
    double total = 0;
    for (std::int64_t i = 0; i < opts.eval_iters; ++i) {
      const auto [x, y] =
          xg::nn::random_windows(*splits[s], opts.batch_size, model.config().block_size, generator);
      total += lm_loss(model.forward(x), y).item();
    }
    means[s] = total / static_cast<double>(opts.eval_iters);
  }
  model.train();
  return {means[0], means[1]};
}

}  // namespace

// ---- Vocabulary

Vocabulary::Vocabulary(const std::string& chars) {
  std::fill(std::begin(ids_), std::end(ids_), -1);
  for (const char c : chars) {
    auto& id = ids_[static_cast<unsigned char>(c)];
    if (id >= 0) continue;
    id = static_cast<std::int64_t>(chars_.size());
    chars_ += c;
  }
}

Vocabulary Vocabulary::of_text(const std::string& text) {
  const std::set<unsigned char> distinct(text.begin(), text.end());
  return Vocabulary(std::string(distinct.begin(), distinct.end()));
}

Vocabulary Vocabulary::with_substitute() const { return Vocabulary(chars_ + kSubstitute); }

Tensor Vocabulary::encode(const std::string& text, const std::string& what,
                          std::int64_t* substituted) const {
  Tensor ids = xg::empty({static_cast<std::int64_t>(text.size())}, xg::kInt64);
  std::int64_t* p = ids.data_ptr<std::int64_t>();
  const std::int64_t reserved = ids_[static_cast<unsigned char>(kSubstitute)];
  std::int64_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::int64_t id = ids_[static_cast<unsigned char>(text[i])];
    if (id < 0 && reserved >= 0) {
      id = reserved;
      ++count;
    }
    if (id < 0) {
      std::ostringstream message;
      message << what << ": character " << static_cast<int>(static_cast<unsigned char>(text[i]))
              << " at position " << i << " is not in the model's vocabulary of " << size()
              << " characters";
      throw std::invalid_argument(message.str());
    }
    p[i] = id;
  }
  if (substituted) *substituted = count;
  return ids;
}

std::string Vocabulary::decode(const Tensor& ids) const {
  const Tensor flat = ids.contiguous();
  const std::int64_t* p = flat.data_ptr<std::int64_t>();
  std::string text;
  for (std::int64_t i = 0; i < flat.numel(); ++i) text += chars_.at(static_cast<std::size_t>(p[i]));
  return text;
}

// ---- The model

CausalSelfAttention::CausalSelfAttention(const Config& config,
                                         std::optional<xg::Generator> dropout_generator)
    : Module("CausalSelfAttention"),
      n_head_(config.n_head),
      n_embd_(config.n_embd),
      dropout_(config.dropout),
      generator_(std::move(dropout_generator)) {
  c_attn = register_module("c_attn",
                           std::make_shared<xg::nn::Linear>(n_embd_, 3 * n_embd_, config.bias));
  c_proj =
      register_module("c_proj", std::make_shared<xg::nn::Linear>(n_embd_, n_embd_, config.bias));
  resid_dropout =
      register_module("resid_dropout", std::make_shared<xg::nn::Dropout>(dropout_, generator_));
}

Tensor CausalSelfAttention::forward(const Tensor& x) {
  const std::int64_t B = x.size(0), T = x.size(1), C = x.size(2), hs = C / n_head_;
  // q, k, v for all heads at once, then each [B, n_head, T, head_size].
  const std::vector<Tensor> qkv = xg::split(c_attn->forward(x), n_embd_, 2);
  auto heads = [&](const Tensor& t) { return t.view({B, T, n_head_, hs}).transpose(1, 2); };
  const double p = is_training() ? dropout_ : 0.0;
  const Tensor y = xg::nn::functional::scaled_dot_product_attention(
      heads(qkv[0]), heads(qkv[1]), heads(qkv[2]), {}, p, /*is_causal=*/true, std::nullopt,
      generator_);
  // The heads side by side again: [B, T, C].
  const Tensor out = c_proj->forward(y.transpose(1, 2).contiguous().view({B, T, C}));
  return dropout_ > 0 ? resid_dropout->forward(out) : out;
}

MLP::MLP(const Config& config, std::optional<xg::Generator> dropout_generator)
    : Module("MLP"), dropout_p_(config.dropout) {
  c_fc = register_module(
      "c_fc", std::make_shared<xg::nn::Linear>(config.n_embd, 4 * config.n_embd, config.bias));
  c_proj = register_module(
      "c_proj", std::make_shared<xg::nn::Linear>(4 * config.n_embd, config.n_embd, config.bias));
  dropout = register_module(
      "dropout", std::make_shared<xg::nn::Dropout>(config.dropout, std::move(dropout_generator)));
}

Tensor MLP::forward(const Tensor& x) {
  const Tensor out = c_proj->forward(xg::gelu(c_fc->forward(x)));  // exact GELU, as nn.GELU()
  return dropout_p_ > 0 ? dropout->forward(out) : out;
}

Block::Block(const Config& config, std::optional<xg::Generator> dropout_generator)
    : Module("Block") {
  ln_1 = register_module(
      "ln_1", std::make_shared<xg::nn::LayerNorm>(config.n_embd, 1e-5, true, config.bias));
  attn = register_module("attn", std::make_shared<CausalSelfAttention>(config, dropout_generator));
  ln_2 = register_module(
      "ln_2", std::make_shared<xg::nn::LayerNorm>(config.n_embd, 1e-5, true, config.bias));
  mlp = register_module("mlp", std::make_shared<MLP>(config, dropout_generator));
}

Tensor Block::forward(const Tensor& x) {
  const Tensor h = x + attn->forward(ln_1->forward(x));
  return h + mlp->forward(ln_2->forward(h));
}

Transformer::Transformer(const Config& config, std::optional<xg::Generator> dropout_generator)
    : Module("Transformer") {
  wte =
      register_module("wte", std::make_shared<xg::nn::Embedding>(config.vocab_size, config.n_embd));
  wpe =
      register_module("wpe", std::make_shared<xg::nn::Embedding>(config.block_size, config.n_embd));
  drop =
      register_module("drop", std::make_shared<xg::nn::Dropout>(config.dropout, dropout_generator));
  h = register_module("h", std::make_shared<xg::nn::ModuleList>());
  for (std::int64_t i = 0; i < config.n_layer; ++i) {
    h->push_back(std::make_shared<Block>(config, dropout_generator));
  }
  ln_f = register_module(
      "ln_f", std::make_shared<xg::nn::LayerNorm>(config.n_embd, 1e-5, true, config.bias));
}

GPT::GPT(const Config& config, std::optional<xg::Generator> dropout_generator)
    : Module("GPT"), config_(config) {
  check_config(config);
  transformer =
      register_module("transformer", std::make_shared<Transformer>(config, dropout_generator));
  lm_head = register_module(
      "lm_head", std::make_shared<xg::nn::Linear>(config.n_embd, config.vocab_size, false));
  // Weight tying (Press & Wolf 2017), as nanoGPT's `wte.weight = lm_head.weight`: lm_head now
  // holds the embedding's tensor, listed once by parameters() under transformer.wte.weight.
  lm_head->register_parameter("weight", transformer->wte->weight);

  apply([](xg::nn::Module& m) {
    if (auto* linear = dynamic_cast<xg::nn::Linear*>(&m)) {
      xg::nn::init::normal_(linear->weight, 0.0, kInitStd);
      if (linear->bias.defined()) xg::nn::init::zeros_(linear->bias);
    } else if (auto* embedding = dynamic_cast<xg::nn::Embedding*>(&m)) {
      xg::nn::init::normal_(embedding->weight, 0.0, kInitStd);
    }
  });
  // The projections back into the residual stream start smaller, as in GPT-2.
  const double proj_std = kInitStd / std::sqrt(2.0 * static_cast<double>(config.n_layer));
  for (const auto& [name, p] : named_parameters()) {
    if (name.ends_with("c_proj.weight")) xg::nn::init::normal_(p, 0.0, proj_std);
  }
}

Tensor GPT::forward(const Tensor& idx) {
  const std::int64_t t = idx.size(1);
  if (t > config_.block_size) {
    throw std::invalid_argument("GPT: a sequence of " + std::to_string(t) +
                                " tokens is longer than the block size " +
                                std::to_string(config_.block_size));
  }
  const Tensor pos = xg::arange(t, xg::kInt64);
  Tensor x = transformer->wte->forward(idx) + transformer->wpe->forward(pos);
  if (config_.dropout > 0) x = transformer->drop->forward(x);
  for (const auto& block : *transformer->h) x = block->forward(x);
  return lm_head->forward(transformer->ln_f->forward(x));
}

std::int64_t GPT::num_parameters(bool include_position_embedding) const {
  std::int64_t n = 0;
  for (const Tensor& p : parameters()) n += p.numel();
  return include_position_embedding ? n : n - transformer->wpe->weight.numel();
}

Tensor lm_loss(const Tensor& logits, const Tensor& targets) {
  return xg::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                           targets.reshape({-1}));
}

double full_split_loss(GPT& model, const Tensor& tokens) {
  xg::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const std::int64_t T = model.config().block_size;
  const std::int64_t windows = (tokens.numel() - 1) / T;
  double total = 0;
  for (std::int64_t w = 0; w < windows; w += kEvalWindows) {
    const std::int64_t n = std::min(kEvalWindows, windows - w);
    const Tensor x = tokens.narrow(0, w * T, n * T).view({n, T});
    const Tensor y = tokens.narrow(0, w * T + 1, n * T).view({n, T});
    const Tensor logits = model.forward(x);
    total += xg::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                               y.reshape({-1}), xg::nn::Reduction::Sum)
                 .item();
  }
  model.train(was_training);
  return windows == 0 ? std::numeric_limits<double>::quiet_NaN()
                      : total / static_cast<double>(windows * T);
}

std::string generate(GPT& model, const Vocabulary& vocab, const std::string& prompt,
                     std::int64_t count, double temperature, std::int64_t top_k,
                     xg::Generator generator) {
  if (!(temperature > 0)) throw std::invalid_argument("--temperature must be > 0");
  xg::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  const std::int64_t T = model.config().block_size;
  Tensor idx = vocab.encode(prompt, "--prompt").view({1, -1});
  const std::int64_t prompt_length = idx.size(1);
  for (std::int64_t i = 0; i < count; ++i) {
    const Tensor context = idx.size(1) <= T ? idx : idx.narrow(1, idx.size(1) - T, T);
    // The last position's logits, sharpened or flattened by the temperature.
    Tensor logits = model.forward(context).index({Slice(), -1, Slice()}) / temperature;
    if (top_k > 0) {
      const auto [top, unused] = xg::topk(logits, std::min(top_k, logits.size(-1)));
      logits = xg::masked_fill(logits, xg::lt(logits, top.index({Slice(), Slice(-1, None)})),
                               -std::numeric_limits<double>::infinity());
    }
    const Tensor next = xg::multinomial(xg::softmax(logits, -1), 1, false, generator);
    idx = xg::cat({idx, next}, 1);
  }
  model.train(was_training);
  return vocab.decode(idx.narrow(1, prompt_length, count));
}

// ---- The program

namespace {

// One --data source, FILE or FILE:EPOCHS, and its two splits.
struct Source {
  std::string path, name;
  double epochs = 1.0;  // the budget; 1 when not given
  Tensor train, val;
  std::int64_t substituted = 0;  // characters mapped to the reserved id
};

Source parse_source(const std::string& spec) {
  Source s;
  s.path = spec;
  const auto colon = spec.rfind(':');
  if (colon != std::string::npos && colon + 1 < spec.size()) {
    const std::string tail = spec.substr(colon + 1);
    char* end = nullptr;
    const double epochs = std::strtod(tail.c_str(), &end);
    if (end == tail.c_str() + tail.size() && !std::isspace(static_cast<unsigned char>(tail[0]))) {
      if (!(std::isfinite(epochs) && epochs >= 0)) {
        throw std::invalid_argument("--data " + spec + ": the epoch budget " + tail +
                                    " is not a finite number >= 0");
      }
      s.path = spec.substr(0, colon);
      s.epochs = epochs;
    }
  }
  s.name = std::filesystem::path(s.path).filename().string();
  return s;
}

struct Data {
  Vocabulary vocab{""};
  std::vector<Source> sources;
};

// Where the vocabulary comes from: the data (a new run), a checkpoint (--resume, --sample-only)
// or a checkpoint with the reserved id added when the data needs it (--init-from).
enum class VocabularyFrom { kData, kCheckpoint, kCheckpointWithReserved };

Data load_data(const std::vector<std::string>& specs, VocabularyFrom from,
               const std::string& checkpoint_chars, const std::string& checkpoint,
               std::ostream& out) {
  if (specs.empty()) throw std::invalid_argument("--data: no text given");
  Data data;
  std::vector<std::string> texts;
  std::set<unsigned char> seen;
  for (const std::string& spec : specs) {
    data.sources.push_back(parse_source(spec));
    texts.push_back(read_text(data.sources.back().path));
    if (texts.back().empty())
      throw std::invalid_argument("'" + data.sources.back().path + "' is empty");
    seen.insert(texts.back().begin(), texts.back().end());
  }
  const std::string data_chars(seen.begin(), seen.end());  // sorted, as of_text
  if (from == VocabularyFrom::kData) {
    data.vocab = Vocabulary(data_chars);
  } else {
    data.vocab = Vocabulary(checkpoint_chars);
    const bool outside = std::any_of(data_chars.begin(), data_chars.end(),
                                     [&](char c) { return !data.vocab.contains(c); });
    if (from == VocabularyFrom::kCheckpoint && !data.vocab.has_substitute() &&
        data_chars != checkpoint_chars) {
      throw std::invalid_argument("--resume: " + checkpoint +
                                  " was trained on another vocabulary than this data's");
    }
    if (from == VocabularyFrom::kCheckpointWithReserved && outside) {
      data.vocab = data.vocab.with_substitute();
    }
  }
  for (std::size_t i = 0; i < data.sources.size(); ++i) {
    Source& s = data.sources[i];
    const std::string& text = texts[i];
    const Tensor tokens = data.vocab.encode(text, s.path, &s.substituted);
    const auto n = static_cast<std::int64_t>(text.size());
    const auto n_train = static_cast<std::int64_t>(static_cast<double>(n) * kTrainFraction);
    out << s.path << ": " << n << " characters, vocabulary of " << data.vocab.size() << ", "
        << n_train << " for training, " << n - n_train << " for validation\n";
    if (s.substituted > 0) {
      std::set<unsigned char> distinct;
      for (const char c : text) {
        if (!data.vocab.contains(c)) distinct.insert(static_cast<unsigned char>(c));
      }
      out << "  " << s.substituted << " of them (" << distinct.size()
          << " distinct characters) are outside the vocabulary of " << checkpoint
          << ": each maps to the reserved id " << data.vocab.size() - 1 << '\n';
    }
    s.train = tokens.narrow(0, 0, n_train);
    s.val = tokens.narrow(0, n_train, n - n_train);
  }
  return data;
}

// A 1-D Int64 tensor (a generator's or a mixture's state) as text for the checkpoint's
// metadata, and back.
std::string ints_text(const Tensor& state) {
  const Tensor dense = state.contiguous();
  const std::int64_t* p = dense.data_ptr<std::int64_t>();
  std::string text;
  for (std::int64_t i = 0; i < dense.numel(); ++i) {
    if (i) text += ',';
    text += std::to_string(p[i]);
  }
  return text;
}

Tensor ints_from_text(const std::string& text, const std::string& path) {
  std::vector<std::int64_t> values;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size()) {
      throw std::invalid_argument("--resume: " + path + ": a random state holds '" + item +
                                  "', not a whole number");
    }
    values.push_back(value);
  }
  Tensor state = xg::empty({static_cast<std::int64_t>(values.size())}, xg::kInt64);
  std::copy(values.begin(), values.end(), state.data_ptr<std::int64_t>());
  return state;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : "\n") + item;
  return text;
}

// One stream of training batches: its windows (a mixture with its own generator) and the
// generator of its dropout masks.
struct Stream {
  std::int64_t number;  // among all the ranks' streams
  xg::Generator batches, dropout;
  xg::nn::WindowMixture mixture;
};

// What a checkpoint holds of every stream, each stream's as saved by the rank that draws it:
// "gpt.mixture", "gpt.rng.train" and "gpt.rng.dropout", with the stream's suffix (stream_key).
struct StreamStates {
  std::int64_t count = 0;
  std::vector<std::pair<std::string, Tensor>> states;
};

// Every rank's streams' states, gathered (a collective: every rank calls it).
StreamStates gather_stream_states(const std::vector<Stream>& streams,
                                  const examples::DataParallel& parallel) {
  std::vector<Tensor> parts;
  std::vector<std::int64_t> lengths;
  for (const Stream& s : streams) {
    for (const Tensor& t : {s.mixture.get_state(), s.batches.get_state(), s.dropout.get_state()}) {
      parts.push_back(t);
      lengths.push_back(t.numel());
    }
  }
  const std::vector<Tensor> all = parallel.gather(xg::cat(parts, 0));
  StreamStates out;
  out.count = static_cast<std::int64_t>(streams.size()) * parallel.world();
  std::int64_t number = 0;
  for (const Tensor& rank_states : all) {
    std::int64_t at = 0;
    for (std::size_t k = 0; k < streams.size(); ++k, ++number) {
      std::size_t part = 3 * k;
      for (const char* key : {"gpt.mixture", "gpt.rng.train", "gpt.rng.dropout"}) {
        out.states.emplace_back(stream_key(key, number), rank_states.narrow(0, at, lengths[part]));
        at += lengths[part++];
      }
    }
  }
  return out;
}

xg::Metadata checkpoint_metadata(const GPT& model, const Vocabulary& vocab, std::int64_t iter,
                                 const xg::Generator& eval_rng, const StreamStates& streams,
                                 const std::vector<std::string>& freeze) {
  const Config& c = model.config();
  xg::Metadata metadata = {
      {"gpt.iter", std::to_string(iter)},
      {"gpt.vocab", vocab.chars()},
      {"gpt.block_size", std::to_string(c.block_size)},
      {"gpt.n_layer", std::to_string(c.n_layer)},
      {"gpt.n_head", std::to_string(c.n_head)},
      {"gpt.n_embd", std::to_string(c.n_embd)},
      {"gpt.bias", c.bias ? "1" : "0"},
      {"gpt.freeze", joined(freeze)},
      {"gpt.streams", std::to_string(streams.count)},
      {"gpt.rng.eval", ints_text(eval_rng.get_state())},
  };
  for (const auto& [key, state] : streams.states) metadata[key] = ints_text(state);
  return metadata;
}

// The model's tensors of a checkpoint ("model." names) without the optimizer's.
xg::TensorMap model_tensors(const xg::TensorMap& checkpoint) {
  xg::TensorMap model;
  for (const auto& [name, t] : checkpoint) {
    if (name.starts_with("model.")) model.emplace(name.substr(6), t);
  }
  return model;
}

// Runs f; an std::invalid_argument about "--resume: " is retold as being about `flag`.
template <class F>
auto as_flag(const std::string& flag, F&& f) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    std::string message = e.what();
    if (message.starts_with("--resume: ")) message = flag + ": " + message.substr(10);
    throw std::invalid_argument(message);
  }
}

// --init-from: the checkpoint's model weights into `model`, whose vocabulary may have one id
// more (the reserved one, last): that row of the tied embedding keeps the model's own
// initialisation.
void init_from_checkpoint(GPT& model, const xg::TensorMap& checkpoint,
                          std::int64_t checkpoint_vocab, const std::string& path) {
  xg::TensorMap state = model_tensors(checkpoint);
  const xg::TensorMap own = xg::state_dict(model);
  if (model.config().vocab_size > checkpoint_vocab) {
    for (const char* name : {"transformer.wte.weight", "lm_head.weight"}) {
      auto it = state.find(name);
      if (it == state.end() || it->second.dim() != 2 || it->second.size(0) != checkpoint_vocab) {
        continue;  // load_state_dict names what does not fit
      }
      xg::NoGradGuard no_grad;
      Tensor rows = own.at(name).clone();
      rows.narrow(0, 0, checkpoint_vocab).copy_(it->second);
      it->second = rows;
    }
  }
  as_flag("--init-from", [&] {
    try {
      xg::load_state_dict(model, state);  // the architecture is the checkpoint's: all must fit
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("--init-from: " + path + ": " + e.what());
    }
    return 0;
  });
}

// --freeze: every parameter whose name (any of its names, for a tied one) matches a glob keeps
// requires_grad false. Says what it froze, and which tied names were frozen with a match.
void freeze_parameters(GPT& model, const std::vector<std::string>& globs, std::ostream& out) {
  if (globs.empty()) return;
  const std::vector<xg::nn::NamedTensor> named = model.named_parameters(true, false);
  std::vector<bool> matched(named.size(), false);
  for (const std::string& glob : globs) {
    std::int64_t names = 0, values = 0;
    for (std::size_t i = 0; i < named.size(); ++i) {
      if (fnmatch(glob.c_str(), named[i].name.c_str(), 0) != 0) continue;
      matched[i] = true;
      ++names;
      values += named[i].tensor.numel();
    }
    if (names == 0) {
      throw std::invalid_argument("--freeze '" + glob +
                                  "' matches no parameter name (they read "
                                  "like transformer.h.0.attn.c_attn.weight or lm_head.weight)");
    }
    out << "--freeze '" << glob << "': " << names << " tensors, " << values << " values\n";
  }
  for (std::size_t i = 0; i < named.size(); ++i) {
    Tensor handle = named[i].tensor;  // the same tensor
    if (matched[i]) handle.requires_grad_(false);
  }
  for (std::size_t i = 0; i < named.size(); ++i) {
    if (matched[i]) continue;
    for (std::size_t j = 0; j < named.size(); ++j) {
      if (matched[j] && named[j].tensor.impl() == named[i].tensor.impl()) {
        out << named[i].name << " is tied to " << named[j].name << " (one tensor): frozen too\n";
        break;
      }
    }
  }
  std::int64_t trainable = 0;
  for (const Tensor& p : model.parameters()) trainable += p.requires_grad() ? p.numel() : 0;
  if (trainable == 0) throw std::invalid_argument("--freeze left no parameter to train");
  out << "trainable: " << trainable << " of " << model.num_parameters() << " parameters\n";
}

void print_sample(GPT& model, const Vocabulary& vocab, const Options& opts, std::ostream& out) {
  if (opts.sample <= 0) return;
  const std::string text = generate(model, vocab, opts.prompt, opts.sample, opts.temperature,
                                    opts.top_k, xg::Generator(opts.seed + kSample));
  out << "sample (" << opts.sample << " characters after the prompt):\n"
      << opts.prompt << text << '\n';
}

void sample_only(const Options& opts, std::ostream& out) {
  if (opts.resume.empty()) {  // a fresh model: the vocabulary of the data
    const Data data = load_data(opts.data, VocabularyFrom::kData, "", "", out);
    Config config = opts.model;
    config.vocab_size = data.vocab.size();
    xg::manual_seed(opts.seed);
    GPT model(config);
    print_sample(model, data.vocab, opts, out);
    return;
  }
  xg::Metadata metadata;
  const xg::TensorMap checkpoint = xg::load(opts.resume, &metadata);
  const Vocabulary vocab(examples::required_metadata(metadata, "gpt.vocab", opts.resume));
  Config config = config_from(metadata, opts.resume);
  config.vocab_size = vocab.size();
  GPT model(config);
  xg::load_state_dict(model, model_tensors(checkpoint));
  out << "model from " << opts.resume << " (iteration "
      << examples::required_metadata(metadata, "gpt.iter", opts.resume) << ")\n";
  print_sample(model, vocab, opts, out);
}

// The mixture's weights from the sources' budgets over the run's tokens; prints them when there
// are several sources.
std::vector<double> mixture_weights(const std::vector<Source>& sources, const Options& opts,
                                    std::int64_t batch, std::int64_t block_size,
                                    std::ostream& out) {
  std::vector<std::int64_t> tokens;
  std::vector<double> epochs;
  for (const Source& s : sources) {
    tokens.push_back(s.train.numel());
    epochs.push_back(s.epochs);
  }
  const std::vector<double> weights = xg::nn::WindowMixture::weights_for_epochs(tokens, epochs);
  if (sources.size() == 1) return weights;
  const double total =
      static_cast<double>(opts.max_iters + 1) * static_cast<double>(batch * block_size);
  const double scale = xg::nn::WindowMixture::epochs_scale(tokens, epochs, total);
  out << "mixture over " << opts.max_iters + 1 << " iterations of " << batch << " x " << block_size
      << " tokens: the budgets ask for " << std::llround(total / scale)
      << " training tokens, the run draws " << std::llround(total) << " (budgets scaled by "
      << std::setprecision(3) << scale << ")\n";
  for (std::size_t i = 0; i < sources.size(); ++i) {
    out << "  " << sources[i].name << ": budget " << epochs[i] << " epochs of " << tokens[i]
        << " tokens, weight " << weights[i] << ", about " << epochs[i] * scale
        << " epochs in this run\n";
  }
  out << std::setprecision(6);
  return weights;
}

void train(const Options& opts, std::ostream& out, examples::DataParallel& parallel) {
  if (opts.sample_only) return sample_only(opts, out);
  if (opts.batch_size < 1 || opts.eval_interval < 1 || opts.eval_iters < 1 ||
      opts.gradient_accumulation_steps < 1) {
    throw std::invalid_argument(
        "--batch-size, --gradient-accumulation-steps, --eval-interval and --eval-iters must be "
        ">= 1");
  }
  if (opts.decay_lr && opts.lr_decay_iters <= opts.warmup_iters) {
    throw std::invalid_argument("--lr-decay-iters " + std::to_string(opts.lr_decay_iters) +
                                " must be greater than --warmup-iters " +
                                std::to_string(opts.warmup_iters));
  }
  if (!opts.resume.empty() && !opts.init_from.empty()) {
    throw std::invalid_argument(
        "--resume continues a run and --init-from starts a new one: give one of them");
  }

  // The architecture and vocabulary come from the checkpoint when there is one.
  Config config = opts.model;
  xg::Metadata metadata;
  xg::TensorMap init_checkpoint;
  std::string checkpoint_chars;
  std::vector<std::string> freeze = opts.freeze;
  VocabularyFrom from = VocabularyFrom::kData;
  const std::string& checkpoint = opts.resume.empty() ? opts.init_from : opts.resume;
  const std::string flag = opts.resume.empty() ? "--init-from" : "--resume";
  if (!checkpoint.empty()) {
    as_flag(flag, [&] {
      if (opts.resume.empty()) {
        init_checkpoint = xg::load(checkpoint, &metadata);
      } else {
        xg::load(checkpoint, &metadata);
      }
      checkpoint_chars = examples::required_metadata(metadata, "gpt.vocab", checkpoint);
      const double dropout = config.dropout;
      config = config_from(metadata, checkpoint);
      config.dropout = dropout;
      return 0;
    });
    from =
        opts.resume.empty() ? VocabularyFrom::kCheckpointWithReserved : VocabularyFrom::kCheckpoint;
    if (!opts.resume.empty()) {  // the frozen names are the checkpoint's
      const auto it = metadata.find("gpt.freeze");
      const std::string saved = it == metadata.end() ? "" : it->second;
      if (freeze.empty() && !saved.empty()) {
        std::istringstream lines(saved);
        for (std::string line; std::getline(lines, line);) freeze.push_back(line);
      } else if (joined(freeze) != saved) {
        throw std::invalid_argument("--resume: " + checkpoint + " was trained with --freeze '" +
                                    saved + "'; give the same globs, or none");
      }
    }
  }
  const Data data = load_data(opts.data, from, checkpoint_chars, checkpoint, out);
  config.vocab_size = data.vocab.size();
  for (const Source& s : data.sources) {
    if (s.train.numel() <= config.block_size || s.val.numel() <= config.block_size) {
      throw std::invalid_argument("each split needs more than block_size (" +
                                  std::to_string(config.block_size) + ") characters; " + s.path +
                                  " has " + std::to_string(s.val.numel()) + " for validation");
    }
  }

  // This rank's streams of batches: ranks x accumulation streams in all.
  const std::int64_t accumulation = opts.gradient_accumulation_steps;
  const std::int64_t first_stream = parallel.rank() * accumulation;
  const std::int64_t stream_count = parallel.world() * accumulation;
  xg::manual_seed(opts.seed);
  xg::Generator eval_rng(opts.seed + kEvalBatches),
      dropout_rng(stream_seed(opts.seed, kDropout, first_stream));
  const auto model_handle = std::make_shared<GPT>(config, dropout_rng);
  GPT& model = *model_handle;
  if (!opts.init_from.empty()) {
    init_from_checkpoint(model, init_checkpoint, Vocabulary(checkpoint_chars).size(),
                         opts.init_from);
  }
  out << "model: " << config.n_layer << " layers, " << config.n_head << " heads, width "
      << config.n_embd << ", block " << config.block_size << (config.bias ? ", biases" : "") << ": "
      << model.num_parameters() << " parameters (" << model.num_parameters(false)
      << " without the position embedding)\n";
  if (!opts.init_from.empty()) {
    out << "initialised from " << opts.init_from << " (its iteration "
        << examples::required_metadata(metadata, "gpt.iter", opts.init_from)
        << "), with a new optimizer and schedule\n";
  }
  freeze_parameters(model, freeze, out);
  parallel.wrap(model_handle, opts.bucket_cap_mb);  // after freezing: the frozen take no part
  xg::optim::AdamW optimizer = make_optimizer(model, opts);
  std::shared_ptr<xg::optim::LRScheduler> schedule;
  if (opts.decay_lr) schedule = make_schedule(optimizer, opts);
  std::vector<Tensor> train_splits;
  for (const Source& s : data.sources) train_splits.push_back(s.train);
  const std::vector<double> source_weights =
      mixture_weights(data.sources, opts, stream_count * opts.batch_size, config.block_size, out);
  std::vector<Stream> streams;
  for (std::int64_t k = 0; k < accumulation; ++k) {
    const std::int64_t number = first_stream + k;
    const xg::Generator batches(stream_seed(opts.seed, kTrainBatches, number));
    // With one stream the model's generator is the stream's; with several, each stream's state
    // is put into it for that stream's batch.
    const xg::Generator dropout =
        accumulation == 1 ? dropout_rng : xg::Generator(stream_seed(opts.seed, kDropout, number));
    streams.push_back(
        Stream{number, batches, dropout,
               xg::nn::WindowMixture(train_splits, source_weights, config.block_size, batches)});
  }
  if (stream_count > 1) {
    out << "data parallel: " << parallel.world() << (parallel.world() > 1 ? " ranks" : " rank")
        << " x " << accumulation << (accumulation > 1 ? " batches" : " batch") << " of "
        << opts.batch_size << " windows = " << stream_count * opts.batch_size
        << " windows per iteration, " << xg::get_num_threads()
        << (xg::get_num_threads() > 1 ? " threads" : " thread") << " per rank\n";
  }

  std::int64_t iter = 0;
  if (!opts.resume.empty()) {
    examples::check_checkpoint(opts.resume, model);
    xg::load(model, optimizer, opts.resume);
    iter = metadata_number(metadata, "gpt.iter", opts.resume, 0);
    const auto saved_streams = metadata.find("gpt.streams");
    const std::int64_t saved_count = saved_streams == metadata.end()
                                         ? 1
                                         : metadata_number(metadata, "gpt.streams", opts.resume, 1);
    if (saved_count != stream_count) {
      throw std::invalid_argument(
          "--resume: " + opts.resume + " was written by a run of " + std::to_string(saved_count) +
          " streams of batches (ranks x --gradient-accumulation-steps) and this run has " +
          std::to_string(stream_count) + " (" + std::to_string(parallel.world()) + " x " +
          std::to_string(accumulation) +
          "): give ranks and --gradient-accumulation-steps whose "
          "product is " +
          std::to_string(saved_count));
    }
    auto state = [&](const std::string& key) {
      return ints_from_text(examples::required_metadata(metadata, key, opts.resume), opts.resume);
    };
    eval_rng.set_state(state("gpt.rng.eval"));
    for (Stream& s : streams) {
      s.batches.set_state(state(stream_key("gpt.rng.train", s.number)));
      s.dropout.set_state(state(stream_key("gpt.rng.dropout", s.number)));
      if (const auto it = metadata.find(stream_key("gpt.mixture", s.number));
          it != metadata.end()) {
        try {
          s.mixture.set_state(ints_from_text(it->second, opts.resume));
        } catch (const std::invalid_argument& e) {
          throw std::invalid_argument("--resume: " + opts.resume + ": " + e.what() +
                                      " (give the --data sources it was trained on)");
        }
      }
    }
    if (schedule) {
      for (std::int64_t i = 0; i < iter; ++i) schedule->step();
    }
    out << "resumed from " << opts.resume << " at iteration " << iter << '\n';
  }
  // Every rank gives its streams' states; rank 0 writes the file (replacing it whole, so a run
  // stopped while saving leaves the last checkpoint as it was).
  auto save_checkpoint = [&](std::int64_t at) {
    if (opts.save.empty()) return;
    const StreamStates states = gather_stream_states(streams, parallel);
    if (parallel.rank() == 0) {
      xg::save(model, optimizer, opts.save,
               checkpoint_metadata(model, data.vocab, at, eval_rng, states, freeze));
    }
  };
  const bool several = data.sources.size() > 1;
  const std::vector<double>& weights = streams[0].mixture.probabilities();
  // The losses of the model on the sources' validation splits (the whole split, weighted by
  // the mixture, and each source's when there are several).
  auto report_full_split = [&](const std::string& when) {
    std::vector<double> losses;
    double weighted = 0;
    for (std::size_t i = 0; i < data.sources.size(); ++i) {
      losses.push_back(full_split_loss(model, data.sources[i].val));
      weighted += weights[i] * losses.back();
    }
    out << when << " val (full split): " << weighted << std::endl;
    for (std::size_t i = 0; several && i < losses.size(); ++i) {
      out << when << " val (full split) of " << data.sources[i].name << ": " << losses[i]
          << std::endl;
    }
  };

  std::vector<Tensor> parameters;                 // the trainable ones, to clip
  std::vector<std::pair<Tensor, Tensor>> frozen;  // each frozen tensor and its values now
  for (const Tensor& p : model.parameters()) {
    if (p.requires_grad()) {
      parameters.push_back(p);
    } else {
      frozen.emplace_back(p, p.detach().clone());
    }
  }
  out << std::fixed << std::setprecision(4);
  const bool lead = parallel.rank() == 0;  // evaluates, prints and saves
  if (lead && !opts.init_from.empty() && opts.full_eval) report_full_split("initial");
  using Clock = std::chrono::steady_clock;
  const auto run_start = Clock::now();
  Clock::duration training{};
  const std::int64_t first_iter = iter;
  for (; iter <= opts.max_iters; ++iter) {
    if (iter % opts.eval_interval == 0) {
      save_checkpoint(iter);  // before the evaluation, so a resumed run evaluates as this one does
      if (lead) {
        double train_loss = 0, val_loss = 0;
        std::ostringstream each;
        each << std::fixed << std::setprecision(4);
        for (std::size_t i = 0; i < data.sources.size(); ++i) {
          const auto [t, v] =
              estimate_loss(model, data.sources[i].train, data.sources[i].val, opts, eval_rng);
          train_loss += weights[i] * t;
          val_loss += weights[i] * v;
          each << (i ? ", " : " (") << data.sources[i].name << " val " << v;
        }
        out << "step " << iter << ": train " << train_loss << ", val " << val_loss
            << (several ? each.str() + ")" : "") << std::endl;
      }
    }
    const auto start = Clock::now();
    const bool log = opts.log_interval > 0 && iter % opts.log_interval == 0;
    double loss_sum = 0;  // of this rank's batches, each divided by their number
    optimizer.zero_grad();
    for (Stream& s : streams) {
      if (accumulation > 1) dropout_rng.set_state(s.dropout.get_state());
      const auto [x, y] = s.mixture.next(opts.batch_size);
      Tensor loss = lm_loss(parallel.forward(model, x), y);
      if (accumulation > 1) loss = loss / static_cast<double>(accumulation);
      // The gradients are averaged over the ranks in the last batch's backward.
      parallel.backward(loss, /*sync=*/&s == &streams.back());
      if (accumulation > 1) s.dropout.set_state(dropout_rng.get_state());
      if (log) loss_sum += loss.item();
    }
    if (opts.grad_clip > 0) xg::nn::utils::clip_grad_norm_(parameters, opts.grad_clip);
    optimizer.step();
    if (schedule) schedule->step();
    training += Clock::now() - start;
    if (log) {
      const double mean = parallel.mean(loss_sum);  // over every rank's batches
      out << "iter " << iter << ": loss " << mean << std::endl;
    }
  }
  save_checkpoint(iter);
  const double seconds = std::chrono::duration<double>(Clock::now() - run_start).count();
  const std::int64_t iters = iter - first_iter;
  out << std::setprecision(1) << "time per iteration: "
      << (iters > 0
              ? 1e3 * std::chrono::duration<double>(training).count() / static_cast<double>(iters)
              : 0.0)
      << " ms (" << iters << " iterations, evaluation excluded); wall time " << seconds << " s\n"
      << std::setprecision(4);
  if (const auto& st = parallel.stats(); st.backwards > 0) {
    // Rank 0's share of the gradients' all-reduces (every rank sends as much).
    const double per = 1.0 / static_cast<double>(st.backwards);
    const double wait_ms = 1e3 * st.wait_seconds * per;
    const double step_ms =
        1e3 * std::chrono::duration<double>(training).count() / static_cast<double>(iters);
    out << std::setprecision(1)
        << "all-reduce per iteration: " << static_cast<double>(st.buckets) * per << " buckets, "
        << std::setprecision(2) << static_cast<double>(st.bytes) * per / 1e6 << std::setprecision(1)
        << " MB from each rank, " << static_cast<double>(st.started_during_backward) * per
        << " of the buckets started before the backward's last gradient; waited " << wait_ms
        << " ms at the end of the backward (" << 100.0 * wait_ms / step_ms
        << "% of the iteration)\n"
        << std::setprecision(4);
  }
  if (several) {
    // What the mixture drew over the whole run (a resumed run counts from the start), summed
    // over every stream.
    Tensor drawn = xg::zeros({static_cast<std::int64_t>(data.sources.size())}, xg::kInt64);
    for (const Stream& s : streams) {
      for (std::size_t i = 0; i < data.sources.size(); ++i) {
        drawn.data_ptr<std::int64_t>()[i] += s.mixture.drawn()[i];
      }
    }
    parallel.sum(drawn);
    const std::int64_t* counts = drawn.data_ptr<std::int64_t>();
    std::int64_t windows = 0;
    for (std::size_t i = 0; i < data.sources.size(); ++i) windows += counts[i];
    out << "drawn:";
    for (std::size_t i = 0; i < data.sources.size(); ++i) {
      const double epochs = static_cast<double>(counts[i] * config.block_size) /
                            static_cast<double>(data.sources[i].train.numel());
      out << (i ? "," : "") << ' ' << data.sources[i].name << ' ' << counts[i] << " windows ("
          << std::setprecision(1)
          << 100.0 * static_cast<double>(counts[i]) /
                 static_cast<double>(std::max<std::int64_t>(windows, 1))
          << "%, weight " << 100 * weights[i] << "%; " << std::setprecision(4) << epochs
          << " epochs)";
    }
    out << '\n';
  }
  if (!frozen.empty()) {
    for (const auto& [p, start] : frozen) {
      if (!xg::eq(p, start).all().item<bool>()) {
        throw std::logic_error("a parameter frozen by --freeze changed");
      }
    }
    out << "frozen: " << frozen.size() << " tensors, every value as it started\n";
  }
  if (!lead) return;
  if (opts.full_eval) report_full_split("final");
  if (!opts.export_check.empty()) {
    // The first windows of the (first source's) validation split, the model's logits and loss on
    // them: what check_pytorch.py compares with nanoGPT's architecture in PyTorch.
    const Tensor& val = data.sources[0].val;
    const std::int64_t T = config.block_size, n = std::min<std::int64_t>(4, (val.numel() - 1) / T);
    xg::NoGradGuard no_grad;
    model.eval();
    const Tensor x = val.narrow(0, 0, n * T).view({n, T});
    const Tensor y = val.narrow(0, 1, n * T).view({n, T});
    const Tensor logits = model.forward(x);
    xg::save({{"x", x.contiguous()},
              {"y", y.contiguous()},
              {"logits", logits},
              {"loss", lm_loss(logits, y)}},
             opts.export_check);
    model.train();
  }
  print_sample(model, data.vocab, opts, out);
}

}  // namespace

void run(const Options& opts, std::ostream& out) {
  examples::DataParallel parallel;
  if (parallel.rank() == 0) return train(opts, out, parallel);
  std::ostream silent(nullptr);  // only rank 0 prints
  train(opts, silent, parallel);
}

}  // namespace gpt
