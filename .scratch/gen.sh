node --import tsx -e "
import('/work/main/src/arch/rnn-kernels.ts').then(async (m) => { m.setRnnKernels(process.env.K !== '0'); await import('/work/main/bench/generate.ts'); });
" 2>&1 | grep -iE "stateful|window|ratio|tokens/s" | head -5
