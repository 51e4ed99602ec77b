# Compiler flags shared by every cscore target.
include(GNUInstallDirs)

set(CSCORE_WARNINGS -Wall -Wextra)

if(CSCORE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(CSCORE_NATIVE)
  add_compile_options(-march=native)
endif()
