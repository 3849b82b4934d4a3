const CLAMP = 7.90531110763549805;
const A1 = 4.89352455891786e-3, A3 = 6.37261928875436e-4, A5 = 1.48572235717979e-5, A7 = 5.12229709037114e-8;
const A9 = -8.60467152213735e-11, A11 = 2.00018790482477e-13, A13 = -2.76076847742355e-16;
const B0 = 4.89352518554385e-3, B2 = 2.268434632439e-3, B4 = 1.18534705686654e-4, B6 = 1.19825839466702e-6;
function tanhApprox(x) { if (x > CLAMP) x = CLAMP; else if (x < -CLAMP) x = -CLAMP; const x2 = x * x;
  const p = x * (((((((A13 * x2 + A11) * x2 + A9) * x2 + A7) * x2 + A5) * x2 + A3) * x2 + A1));
  const q = ((B6 * x2 + B4) * x2 + B2) * x2 + B0; return p / q; }
function sig(x){ return 0.5 + 0.5 * tanhApprox(0.5 * x); }
const B=32,H=256,G=4*H;
const mem = new WebAssembly.Memory({initial: 256});
const useWasm = process.argv[2]==='wasm';
const mk=(n,off)=> useWasm? new Float32Array(mem.buffer, off*4, n) : new Float32Array(n);
let off=0; const al=(n)=>{const a=mk(n,off); off+=n; return a;};
const XW=al(B*G), HU=al(B*G), C=al(B*H), HO=al(B*H), CO=al(B*H), A=al(B*5*H);
for(const a of [XW,HU,C]) for(let i=0;i<a.length;i++) a[i]=Math.random()*4-2;
function k(){
  for (let r = 0; r < B; r++) {
    const zo = r * G, xo = zo, so = r * H, ao = r * 5 * H;
    for (let j = 0; j < H; j++) {
      const i = sig(XW[xo + j] + HU[zo + j]);
      const f = sig(XW[xo + H + j] + HU[zo + H + j]);
      const g = tanhApprox(XW[xo + 2 * H + j] + HU[zo + 2 * H + j]);
      const o = sig(XW[xo + 3 * H + j] + HU[zo + 3 * H + j]);
      const cn = f * C[so + j] + i * g; const tc = tanhApprox(cn);
      CO[so + j] = cn; HO[so + j] = o * tc;
      A[ao + j] = i; A[ao + H + j] = f; A[ao + 2 * H + j] = g; A[ao + 3 * H + j] = o; A[ao + 4 * H + j] = tc;
    }
  }
}
for(let i=0;i<300;i++)k();
const t=performance.now(); for(let i=0;i<1000;i++)k(); console.log(useWasm?'wasm mem':'plain', 'us per call', ((performance.now()-t)).toFixed(1));
