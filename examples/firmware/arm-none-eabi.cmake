# arm-none-eabi.cmake - CMake toolchain file of the example firmware (bare metal, GNU Arm toolchain).
#   cmake -S . -B build -DCMAKE_TOOLCHAIN_FILE=arm-none-eabi.cmake -DCPU_FLAGS="-mcpu=cortex-m4 -mthumb ..."
# CPU_FLAGS: the core, instruction set, float ABI and FPU of your part (tinyqat boards --show <board> has
# the board profile's). The firmware links newlib-nano with semihosting (rdimon) so that printf reaches
# the QEMU console; on hardware use --specs=nosys.specs and your own output.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16" CACHE STRING "Core and ABI flags")
set(CMAKE_C_FLAGS_INIT "${CPU_FLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${CPU_FLAGS} --specs=nano.specs --specs=rdimon.specs")
