// qwenproxy dashboard (docs/dashboard.md): line charts of the last hour on a
// <canvas>, in plain JavaScript (no library). Loaded before app.js, which
// calls QpCharts.drawLineChart(canvas, bucketS, lines) with
// lines = [{color, values: [[unix_s, value|null], ...]}].
'use strict';

const QpCharts = (() => {
  const nowS = () => Date.now() / 1000;

  function fmtNumber(n) {
    if (n >= 1e6) return (n / 1e6).toFixed(1) + 'M';
    if (n >= 1e4) return (n / 1e3).toFixed(1) + 'k';
    return String(Math.round(n * 100) / 100);
  }

  // A line chart of the last hour on a <canvas>: x = time (60 buckets ending
  // with the current one), y = 0..max of the values; null values are gaps.
  function drawLineChart(canvas, bucketS, lines) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
    if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    const padL = 4, padR = 4, padT = 16, padB = 14;
    const end = Math.floor(nowS() / bucketS) * bucketS;
    const start = end - 59 * bucketS;
    let max = 0;
    for (const l of lines) for (const [, v] of l.values) if (v !== null && v !== undefined && v > max) max = v;
    const top = max > 0 ? max * 1.15 : 1;
    const x = (t) => padL + ((t - start) / (end - start)) * (w - padL - padR);
    const y = (v) => h - padB - (v / top) * (h - padT - padB);
    ctx.strokeStyle = '#dde1e7';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(padL, h - padB + 0.5);
    ctx.lineTo(w - padR, h - padB + 0.5);
    ctx.stroke();
    ctx.fillStyle = '#6b7686';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.fillText(`max ${fmtNumber(max)}`, padL, 2);
    ctx.textBaseline = 'bottom';
    ctx.fillText('−60 min', padL, h);
    const nowLabel = 'now';
    ctx.fillText(nowLabel, w - padR - ctx.measureText(nowLabel).width, h);
    for (const l of lines) {
      ctx.strokeStyle = l.color;
      ctx.fillStyle = l.color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let pen = false;
      for (const [t, v] of l.values) {
        if (t < start || v === null || v === undefined) {
          pen = false;
          continue;
        }
        if (pen) ctx.lineTo(x(t), y(v));
        else ctx.moveTo(x(t), y(v));
        pen = true;
        if (v > 0) ctx.fillRect(x(t) - 1.5, y(v) - 1.5, 3, 3); // a lone point shows too
      }
      ctx.stroke();
    }
  }

  return { drawLineChart };
})();
