// One-line checks: XG_CHECK_ARG(cond, parts...) throws std::invalid_argument with the parts
// joined when cond is false, as PyTorch's TORCH_CHECK. The parts are evaluated only on failure,
// so a check costs its condition and nothing else; the message is built out of line.
//
//   XG_CHECK_ARG(dim < n, "select: dim ", dim, " is out of range for ", describe(t));
//
// A part is a string (std::string, string_view, C string), a char, or an integer (written as
// std::to_string writes it). A double must go through one of the named formatters below, since
// the catalogue (docs/errors.md) uses three number formats and each message keeps its own.
#pragma once

#include <concepts>
#include <stdexcept>
#include <string>
#include <string_view>

namespace xg::detail {

inline void append_part(std::string& s, std::string_view v) { s += v; }
inline void append_part(std::string& s, const char* v) { s += v; }
inline void append_part(std::string& s, const std::string& v) { s += v; }
inline void append_part(std::string& s, char c) { s += c; }
template <std::integral I>
requires(!std::same_as<I, bool> && !std::same_as<I, char>) void append_part(std::string& s, I v) {
  s += std::to_string(v);
}
template <std::floating_point F>
void append_part(std::string& s, F v) = delete;     // use fixed6, general6 or trimmed
void append_part(std::string& s, bool v) = delete;  // say what the flag means in words

// The message of parts joined, thrown as E (exactly E: tests compare the type).
template <class E, class... Parts>
[[noreturn, gnu::cold, gnu::noinline]] void fail(const Parts&... parts) {
  std::string message;
  (append_part(message, parts), ...);
  throw E(message);
}

// The three number formats of the catalogue.
std::string fixed6(double v);    // std::to_string: "0.500000"
std::string general6(double v);  // std::ostream's default, %g: "0.5", "1e-08"
std::string trimmed(double v);   // fixed6 without trailing zeros: "0.5", "-1"

}  // namespace xg::detail

#define XG_CHECK(cond, E, ...)            \
  do {                                    \
    if (!(cond)) [[unlikely]]             \
      ::xg::detail::fail<E>(__VA_ARGS__); \
  } while (false)
#define XG_CHECK_ARG(cond, ...) XG_CHECK(cond, std::invalid_argument, __VA_ARGS__)
#define XG_CHECK_RANGE(cond, ...) XG_CHECK(cond, std::out_of_range, __VA_ARGS__)
#define XG_CHECK_STATE(cond, ...) XG_CHECK(cond, std::runtime_error, __VA_ARGS__)
#define XG_CHECK_LOGIC(cond, ...) XG_CHECK(cond, std::logic_error, __VA_ARGS__)
