# Runs sin_fit and checks its output: exit code 0, at least two "t loss" lines with the loss
# going down, the "Result: y = ..." line, when MAX_LOSS is given, a final loss below it, and when
# LAST_LINE is given (a regular expression), a last line that matches it.
# Run with cmake -P and: SIN_FIT (the program), optional STEPS, MAX_LOSS, LAST_LINE and ARGS
# (more flags, separated by semicolons).
cmake_minimum_required(VERSION 3.21)

set(args ${ARGS})
if(DEFINED STEPS)
  list(APPEND args --steps "${STEPS}")
endif()
execute_process(COMMAND "${SIN_FIT}" ${args}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "sin_fit exited with ${result}")
endif()

string(REGEX MATCHALL "(^|\n)[0-9]+ [^\n]+" loss_lines "${output}")
list(LENGTH loss_lines count)
if(count LESS 2)
  message(FATAL_ERROR "sin_fit printed ${count} 't loss' lines, expected at least 2")
endif()
list(GET loss_lines 0 first_line)
list(GET loss_lines -1 last_line)
string(REGEX REPLACE "^\n?[0-9]+ " "" first_loss "${first_line}")
string(REGEX REPLACE "^\n?[0-9]+ " "" last_loss "${last_line}")
# LESS is false for a value that is not a number, such as nan or inf.
if(NOT last_loss LESS first_loss)
  message(FATAL_ERROR "sin_fit's loss did not go down: ${first_loss} then ${last_loss}")
endif()

set(number "-?[0-9.]+(e[-+]?[0-9]+)?")
set(cubic "Result: y = ${number} \\+ ${number} x \\+ ${number} x\\^2 \\+ ${number} x\\^3")
set(legendre "Result: y = ${number} \\+ ${number} \\* P3\\(${number} \\+ ${number} x\\)")
if(NOT output MATCHES "${cubic}" AND NOT output MATCHES "${legendre}")
  message(FATAL_ERROR "sin_fit did not print 'Result: y = A + B x + C x^2 + D x^3' "
                      "(or A + B * P3(C + D x))")
endif()

if(DEFINED MAX_LOSS AND NOT last_loss LESS MAX_LOSS)
  message(FATAL_ERROR "sin_fit's final loss ${last_loss} is not below ${MAX_LOSS}")
endif()

if(DEFINED LAST_LINE)
  string(REGEX REPLACE "\n+$" "" trimmed "${output}")
  string(REGEX REPLACE ".*\n" "" last "${trimmed}")
  if(NOT last MATCHES "${LAST_LINE}")
    message(FATAL_ERROR "sin_fit's last line '${last}' does not match '${LAST_LINE}'")
  endif()
endif()
