// The claim page's script: reads the link's fragment, asks the student's wallet address,
// signs the EIP-712 Claim with the link's claim key in the browser, and hands it to the
// charity's relayer. Bundled with @noble/curves and @noble/hashes (npm) into one HTML file
// by tools/build-claim-page.mjs: the page loads nothing from the network but the relayer.
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';

const TEXT = {
  uk: {
    title: 'Отримати стипендію',
    course: 'Курс',
    amount: 'Сума',
    milestone: ['реєстрація', 'завершення'],
    address: 'Адреса вашого гаманця BNB Chain (0x…)',
    claim: 'Отримати',
    bad: 'Це не адреса: 0x і 40 шістнадцяткових цифр.',
    checksum: 'Помилка в адресі (контрольна сума не збігається): перевірте кожен символ.',
    zero: 'Нульова адреса не може отримати кошти.',
    contract: 'Увага: ця адреса є контрактом, а не гаманцем. Переконайтеся, що він може отримати токени.',
    sending: 'Надсилаємо…',
    noRelayer: 'Надішліть цей текст своєму реєстратору:',
    offline: 'Немає зв’язку з сервером: спробуйте пізніше.',
    broken: 'Посилання пошкоджене: попросіть нове у свого реєстратора.',
  },
  en: {
    title: 'Claim your scholarship',
    course: 'Course',
    amount: 'Amount',
    milestone: ['registration', 'completion'],
    address: 'Your BNB Chain wallet address (0x…)',
    claim: 'Claim',
    bad: 'Not an address: 0x and 40 hex digits.',
    checksum: 'The address has a typo (its checksum does not match): check every character.',
    zero: 'The zero address cannot receive anything.',
    contract: 'Careful: this address is a contract, not a wallet. Make sure it can receive tokens.',
    sending: 'Sending…',
    noRelayer: 'Send this text to your registrar:',
    offline: 'The relayer cannot be reached: try again later.',
    broken: 'The link is damaged: ask your registrar for a new one.',
  },
};

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (text) => Uint8Array.from(text.replace(/^0x/, '').match(/../g) || [], (b) => parseInt(b, 16));
const utf8 = (text) => new TextEncoder().encode(text);
const word = (value) => fromHex(BigInt(value).toString(16).padStart(64, '0'));
const concat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

export function checksum(address) {
  const lower = address.toLowerCase().replace(/^0x/, '');
  const hash = hex(keccak_256(utf8(lower)));
  return '0x' + [...lower].map((c, i) => (parseInt(hash[i], 16) >= 8 ? c.toUpperCase() : c)).join('');
}

// The problem with a typed address, or '' when it is a valid one.
export function addressProblem(text, t) {
  if (!/^0x[0-9a-fA-F]{40}$/.test(text)) return t.bad;
  const body = text.slice(2);
  const mixed = body !== body.toLowerCase() && body !== body.toUpperCase();
  if (mixed && checksum(text) !== text) return t.checksum;
  if (/^0x0{40}$/.test(text)) return t.zero;
  return '';
}

export function parseLink(fragment) {
  const fields = Object.fromEntries(
    fragment.replace(/^#/, '').split('&').filter((x) => x.includes('=')).map((x) => {
      const at = x.indexOf('=');
      return [x.slice(0, at), decodeURIComponent(x.slice(at + 1))];
    }),
  );
  for (const name of ['c', 'e', 's', 'm', 'k']) if (!(name in fields)) throw new Error(name);
  const key = atob(fields.k.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (fields.k.length % 4)) % 4));
  return {
    chainId: BigInt(fields.c), escrow: fields.e, studentId: fields.s, milestone: Number(fields.m),
    key: Uint8Array.from(key, (c) => c.charCodeAt(0)), course: fields.course || '',
    amount: fields.amount || '', relayer: fields.r || '',
  };
}

// The EIP-712 digest of Claim(bytes32 studentId,uint8 milestone,address payee,uint256 deadline)
// for the escrow's domain: the same bytes as the contract's claimDigest.
export function claimDigest(link, payee, deadline) {
  const domainType = keccak_256(utf8('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'));
  const domain = keccak_256(concat(
    domainType, keccak_256(utf8('ScholarshipEscrow')), keccak_256(utf8('1')),
    word(link.chainId), word('0x' + link.escrow.replace(/^0x/, '')),
  ));
  const claimType = keccak_256(utf8('Claim(bytes32 studentId,uint8 milestone,address payee,uint256 deadline)'));
  const struct = keccak_256(concat(
    claimType, fromHex(link.studentId), word(link.milestone), word(payee), word(deadline),
  ));
  return keccak_256(concat(Uint8Array.of(0x19, 0x01), domain, struct));
}

export function signClaim(link, payee, deadline) {
  const digest = claimDigest(link, payee, deadline);
  const recovered = secp256k1.sign(digest, link.key, { prehash: false, format: 'recovered' });
  const signature = concat(recovered.slice(1), Uint8Array.of(27 + recovered[0]));
  return {
    studentId: link.studentId, milestone: link.milestone, payee: checksum(payee),
    deadline, signature: '0x' + hex(signature),
  };
}

function language() {
  const asked = new URLSearchParams(location.search).get('lang');
  if (asked === 'en' || asked === 'uk') return asked;
  return (navigator.language || 'uk').startsWith('uk') ? 'uk' : 'en';
}

async function start() {
  const lang = language();
  const t = TEXT[lang];
  const $ = (id) => document.getElementById(id);
  document.documentElement.lang = lang;
  $('title').textContent = t.title;
  $('address-label').textContent = t.address;
  $('claim').textContent = t.claim;
  let link;
  try {
    link = parseLink(location.hash);
  } catch {
    $('status').textContent = t.broken;
    $('form').hidden = true;
    return;
  }
  const amount = link.amount ? `${link.amount}` : '';
  $('details').textContent = `${t.course} ${link.course} (${t.milestone[link.milestone] || ''}) · ${t.amount}: ${amount}`;
  $('address').addEventListener('input', async () => {
    const text = $('address').value.trim();
    const problem = text ? addressProblem(text, t) : '';
    $('problem').textContent = problem;
    if (!problem && text && link.relayer) {
      try {
        const facts = await (await fetch(`${link.relayer}/addresses/${text}`)).json();
        if (facts.contract) $('problem').textContent = t.contract;
      } catch { /* the warning needs the relayer */ }
    }
  });
  $('form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const payee = $('address').value.trim();
    const problem = addressProblem(payee, t);
    if (problem) { $('problem').textContent = problem; return; }
    const deadline = Math.floor(Date.now() / 1000) + 7 * 86400;
    const claim = signClaim(link, payee, deadline);
    if (!link.relayer) {
      $('status').textContent = t.noRelayer;
      $('carried').textContent = JSON.stringify(claim);
      return;
    }
    $('status').textContent = t.sending;
    try {
      const answer = await fetch(`${link.relayer}/claims`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(claim),
      });
      const said = await answer.json();
      $('status').textContent = said.message;
      $('status').dataset.state = said.status;
    } catch {
      $('status').textContent = t.offline;
    }
  });
  // The course and amount from the chain, through the relayer; offline, the link's stay.
  if (link.relayer) {
    fetch(`${link.relayer}/reservations/${link.studentId}/${link.milestone}`)
      .then((answer) => answer.json())
      .then((facts) => {
        if (facts.amount) $('details').textContent = `${t.course} ${facts.course} (${t.milestone[link.milestone] || ''}) · ${t.amount}: ${facts.amount}`;
        if (facts.message) $('status').textContent = facts.message;
        $('details').dataset.from = 'chain';
      })
      .catch(() => { $('details').dataset.from = 'link'; });
  }
}

if (typeof document !== 'undefined') window.addEventListener('DOMContentLoaded', start);
