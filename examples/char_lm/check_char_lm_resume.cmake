# Checks --save and --resume on a small word list: train 60 steps saving a checkpoint; resuming
# it with nothing left to do must give the same validation loss (the model came back exactly);
# resuming it up to 120 steps must go on from step 60 to a finite loss.
# Run with cmake -P and: CHAR_LM (the program), WORDS_FILE, WORK_DIR (for the checkpoint).
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(checkpoint "${WORK_DIR}/char_lm.safetensors")
set(common --data "${WORDS_FILE}" --hidden 32 --eval-every 20)

set(ARGS ${common} --steps 60 --save "${checkpoint}")
include("${CMAKE_CURRENT_LIST_DIR}/check_char_lm.cmake")
if(NOT EXISTS "${checkpoint}")
  message(FATAL_ERROR "char_lm --save did not write ${checkpoint}")
endif()
set(saved_loss "${final_val_loss}")

set(ARGS ${common} --steps 60 --resume "${checkpoint}")
include("${CMAKE_CURRENT_LIST_DIR}/check_char_lm.cmake")
if(NOT output MATCHES "resumed from [^\n]* at step 60\n")
  message(FATAL_ERROR "char_lm --resume did not resume at step 60")
endif()
if(NOT final_val_loss STREQUAL saved_loss)
  message(FATAL_ERROR "the resumed model's validation loss ${final_val_loss} differs from the "
                      "saved one's, ${saved_loss}")
endif()

set(ARGS ${common} --steps 120 --resume "${checkpoint}")
include("${CMAKE_CURRENT_LIST_DIR}/check_char_lm.cmake")
if(NOT output MATCHES "resumed from [^\n]* at step 60\n")
  message(FATAL_ERROR "char_lm --resume did not resume at step 60")
endif()
if(NOT output MATCHES "(^|\n)step 120/120 ")
  message(FATAL_ERROR "char_lm --resume did not train up to step 120")
endif()
