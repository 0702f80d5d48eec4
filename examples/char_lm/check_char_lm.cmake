# Runs char_lm and checks its output: exit code 0, at least one "step S/T ... train L val L"
# line, a finite "final val loss L" line and 20 sampled words. Sets `final_val_loss` and
# `output` for a script that includes this one.
# Run with cmake -P (or include()) and: CHAR_LM (the program), ARGS (flags, separated by
# semicolons), and optionally WORDS (the word count the program must report) and MAX_VAL_LOSS.
cmake_minimum_required(VERSION 3.21)

# CTest passes ARGS with escaped semicolons; this turns them into a list.
set(args ${ARGS})
execute_process(COMMAND "${CHAR_LM}" ${args}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}${errors}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "char_lm exited with ${result}")
endif()

if(DEFINED WORDS AND NOT output MATCHES ": ${WORDS} words, ")
  message(FATAL_ERROR "char_lm did not report ${WORDS} words")
endif()
set(number "[0-9]+\\.[0-9]+")
if(NOT output MATCHES "(^|\n)step [0-9]+/[0-9]+ [^\n]* train ${number}  val ${number}\n")
  if(NOT ARGS MATCHES "--resume")  # a resumed run may have no step left to do
    message(FATAL_ERROR "char_lm printed no 'step S/T ... train L  val L' line")
  endif()
endif()
# A number: nan and inf do not match, so this also checks the loss is finite.
if(NOT output MATCHES "(^|\n)final val loss (${number})\n")
  message(FATAL_ERROR "char_lm printed no finite 'final val loss L'")
endif()
set(final_val_loss "${CMAKE_MATCH_2}")
if(DEFINED MAX_VAL_LOSS AND NOT final_val_loss LESS MAX_VAL_LOSS)
  message(FATAL_ERROR "char_lm's validation loss ${final_val_loss} is not below ${MAX_VAL_LOSS}")
endif()
if(NOT output MATCHES "(^|\n)training time ${number} s")
  message(FATAL_ERROR "char_lm printed no 'training time' line")
endif()
if(NOT output MATCHES "\nsamples:\n((  [a-z]*\n)+)$")
  message(FATAL_ERROR "char_lm printed no samples")
endif()
string(REGEX MATCHALL "  [a-z]*\n" samples "${CMAKE_MATCH_1}")
list(LENGTH samples count)
if(NOT count EQUAL 20)
  message(FATAL_ERROR "char_lm sampled ${count} words, expected 20")
endif()
