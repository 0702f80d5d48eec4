// The examples' number flags: CLI11 options that refuse what strict_numbers.hpp refuses, with a
// message that names the flag, the value and what is accepted ("--steps: -5 is not a whole
// number from 0 to 2147483647").
#pragma once

#include <CLI/CLI.hpp>
#include <limits>
#include <string>
#include <type_traits>

#include "strict_numbers.hpp"

namespace examples {

// An option for a whole number in [min, max]; max defaults to the largest `value` can hold.
template <std::integral T>
CLI::Option* add_whole_number(CLI::App& app, const std::string& name, T& value,
                              const std::string& description, std::type_identity_t<T> min,
                              std::type_identity_t<T> max = std::numeric_limits<T>::max()) {
  // CLI11 converts the text itself after this, with strtoull in base 0 (to which 010 is
  // octal): the transform hands it the number as read here, in plain decimal.
  CLI::Validator whole_number(
      [min, max](std::string& text) {
        const std::optional<T> number = parse_whole_number(text, min, max);
        if (!number) return not_a_whole_number(text, min, max);
        text = std::to_string(*number);
        return std::string();
      },
      "from " + std::to_string(min) + " to " + std::to_string(max));
  return app.add_option(name, value, description)->transform(whole_number);
}

// An option for a finite number > 0.
inline CLI::Option* add_positive_number(CLI::App& app, const std::string& name, double& value,
                                        const std::string& description) {
  CLI::Validator positive_number(
      [](std::string& text) {
        return parse_positive_number(text) ? std::string() : not_a_positive_number(text);
      },
      "> 0");
  return app.add_option(name, value, description)->check(positive_number);
}

// An option for a finite number in [min, max], or [min, max) with max_open.
inline CLI::Option* add_number_in(CLI::App& app, const std::string& name, double& value,
                                  const std::string& description, double min, double max,
                                  bool max_open = false) {
  CLI::Validator number_in(
      [min, max, max_open](std::string& text) {
        return parse_number_in(text, min, max, max_open)
                   ? std::string()
                   : not_a_number_in(text, min, max, max_open);
      },
      "in range");
  return app.add_option(name, value, description)->check(number_in);
}

}  // namespace examples
