# Warnings for Tickwire's own targets. Applied per target, never globally, so that a game that
# adds Tickwire with add_subdirectory keeps its own flags.
function(tickwire_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
                                           -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast
                                           # designated initializers of config structs leave the rest at their defaults on purpose
                                           -Wno-missing-field-initializers)
  if(TICKWIRE_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
