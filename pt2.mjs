import { SerialPort } from 'serialport';
import { execSync } from 'child_process';
const a = new SerialPort({ path: '/tmp/ptyA', baudRate: 115200 });
const b = new SerialPort({ path: '/tmp/ptyB', baudRate: 115200 });
for (const [n,p] of [['A',a],['B',b]]) {
  p.on('error', e => console.log(n,'error', e.message));
  p.on('close', e => console.log(n,'close', e && e.message, e && e.disconnected));
  p.on('data', d => console.log(n,'got', JSON.stringify(d.toString())));
}
a.on('open', () => { a.write('hello\n'); });
setTimeout(() => { console.log('killing socat'); execSync('pkill socat'); }, 500);
setTimeout(() => { console.log('A isOpen', a.isOpen); a.write('x\n', e => console.log('A write cb', e && e.message)); }, 1500);
setTimeout(() => process.exit(0), 3000);
