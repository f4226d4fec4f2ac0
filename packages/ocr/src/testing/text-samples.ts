import { between, pick, type Random } from './seeded-random.js';

export type SampleKind = 'chinese' | 'english' | 'digits' | 'mixed';

const CHINESE_WORDS = (
  '我们 你们 他们 今天 明天 昨天 时间 工作 学习 中国 北京 上海 广州 深圳 公司 服务 系统 数据 信息 技术 ' +
  '研究 发展 经济 社会 文化 教育 科学 历史 城市 国家 人民 政府 市场 企业 产品 质量 价格 客户 管理 问题 ' +
  '方法 结果 过程 能力 水平 环境 安全 健康 医院 学校 老师 学生 朋友 家庭 生活 世界 天气 温度 电话 地址 ' +
  '邮箱 网站 电脑 手机 软件 网络 银行 账户 金额 订单 发票 合同 日期 编号 名称 数量 单位 总计 备注 说明 ' +
  '通知 会议 报告 计划 项目 部门 经理 员工 工资 办公 地点 交通 火车 飞机 汽车 道路 公园 图书馆 超市 商店 ' +
  '饭店 咖啡 早餐 午餐 晚餐 水果 蔬菜 米饭 面条 周末 春天 夏天 秋天 冬天 阳光 风景 山水 河流 大海 天空 ' +
  '欢迎 光临 谢谢 请问 注意 小心 禁止 吸烟 出口 入口 营业 免费 开放 已经 完成 发货 支付 成功 失败 ' +
  '重要 文件 下载 上传 登录 注册 密码 用户 设置 帮助 中心 新闻 体育 音乐 电影 旅游 酒店 机场 车站'
).split(' ');

const ENGLISH_WORDS = (
  'service model batch queue worker request response image text line page document invoice order total ' +
  'price amount customer account number date time office meeting report project market data system network ' +
  'server client program version update release build test result value quality support product design energy ' +
  'water green river mountain city street garden house window table chair coffee morning evening weekend summer ' +
  'winter spring autumn travel ticket station airport hotel room welcome thank please open close start stop ' +
  'north south east west first second third hello world simple quick brown fox jumps over lazy dog'
).split(' ');

const capital = (w: string) => w[0]!.toUpperCase() + w.slice(1);
const digits = (rand: Random, n: number) => Array.from({ length: n }, () => String(between(rand, 0, 9))).join('');
const pad2 = (n: number) => String(n).padStart(2, '0');

function chinese(rand: Random): string {
  let s = '';
  const target = between(rand, 3, 12);
  while (s.length < target) s += pick(rand, CHINESE_WORDS);
  return s;
}

function english(rand: Random): string {
  const words = Array.from({ length: between(rand, 2, 6) }, () => pick(rand, ENGLISH_WORDS));
  words[0] = capital(words[0]!);
  return words.join(' ');
}

function number(rand: Random): string {
  switch (between(rand, 0, 6)) {
    case 0:
      return `${between(rand, 2000, 2030)}-${pad2(between(rand, 1, 12))}-${pad2(between(rand, 1, 28))}`;
    case 1:
      return `${pad2(between(rand, 0, 23))}:${pad2(between(rand, 0, 59))}`;
    case 2:
      return `${between(rand, 1, 9999)}.${digits(rand, 2)}`;
    case 3:
      return `${between(rand, 1, 99)}%`;
    case 4:
      return `${digits(rand, 3)}-${digits(rand, 4)}-${digits(rand, 4)}`;
    case 5:
      return `No.${digits(rand, between(rand, 4, 8))}`;
    default:
      return digits(rand, between(rand, 3, 9));
  }
}

function digitsLine(rand: Random): string {
  return Array.from({ length: between(rand, 1, 3) }, () => number(rand)).join(' ');
}

function mixed(rand: Random): string {
  const latin = rand() < 0.5 ? number(rand) : capital(pick(rand, ENGLISH_WORDS));
  switch (between(rand, 0, 2)) {
    case 0:
      return `${chinese(rand)}${latin}`;
    case 1:
      return `${latin}${chinese(rand)}`;
    default:
      return `${pick(rand, CHINESE_WORDS)}${pick(rand, CHINESE_WORDS)}${latin}${pick(rand, CHINESE_WORDS)}`;
  }
}

/** One line of text of the given kind. Mixed lines join Chinese and Latin without spaces, as Chinese text does. */
export function sampleText(rand: Random, kind: SampleKind): string {
  switch (kind) {
    case 'chinese':
      return chinese(rand);
    case 'english':
      return english(rand);
    case 'digits':
      return digitsLine(rand);
    case 'mixed':
      return mixed(rand);
  }
}

export const SAMPLE_KINDS: readonly SampleKind[] = ['chinese', 'english', 'digits', 'mixed'];
