"""The distributions the generators draw from: names, statuses, rates, salaries, sectors."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Generic, TypeVar

from db.models.enums import (
    ApplicationStatus,
    ContributionStatus,
    EducationLevel,
    EmployerSize,
    EmploymentType,
    InsuranceType,
    JobStatus,
    SalaryUnit,
    TrainingKind,
    TrainingMode,
)

T = TypeVar("T")


class Weighted(Generic[T]):
    """A fixed distribution to draw from."""

    def __init__(self, *pairs: tuple[T, float]) -> None:
        items, weights = zip(*pairs, strict=True)
        self.items: tuple[T, ...] = items
        self._cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.items, cum_weights=self._cumulative)[0]


SURNAMES = Weighted(
    *(
        (surname, 1 / (rank + 4))
        for rank, surname in enumerate(
            "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
        )
    )
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋峰建国志海东文兵亮成新春永"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧莹琳倩晶颖洁梅兰萍红英秀凤琴云丹欣月佳玉桂"
BRAND_CHARS = "华宏鑫恒富金盛隆永佳创信德昌泰达兴源丰利嘉联新海瑞天中明威博诚安远顺凯益腾"
PROVIDER_KINDS = ("技师学院", "高级技工学校", "职业技能培训学校", "就业训练中心", "公共实训基地")
TITLE_SUFFIXES = ("", "", "", "（急招）", "（长白班）", "（两班倒）", "（可招学徒）")

# What postings call a job, beside its occupation's standard name: the words job seekers
# search by (an occupation name containing the key gets one of them).
COMMON_TITLES = {
    "装接": ("普工", "电子厂普工", "流水线普工"),
    "装调": ("普工", "装配普工"),
    "制造工": ("普工", "操作工"),
    "成型": ("普工", "注塑工"),
    "纺纱": ("普工", "纺织普工"),
    "制鞋": ("普工", "鞋厂普工"),
    "缝纫": ("车位工", "缝纫工"),
    "检验": ("质检员", "普工"),
    "叉车": ("叉车工", "叉车司机"),
    "操作": ("普工", "操作工"),
    "焊": ("焊工", "电焊工", "氩弧焊工"),
    "电工": ("电工", "维修电工"),
    "家政": ("保姆", "住家保姆", "家政阿姨"),
    "育婴": ("月嫂", "育儿嫂"),
    "养老护理": ("护工", "养老院护工"),
    "保洁": ("保洁", "保洁阿姨"),
    "装卸搬运": ("搬运工", "装卸工"),
    "配送": ("外卖骑手", "配送骑手"),
    "快递员": ("快递员", "快递派送员"),
    "驾驶员": ("司机", "货车司机"),
    "保安": ("保安", "门卫保安"),
    "烹调": ("厨师", "帮厨"),
    "服务员": ("服务员", "传菜员"),
    "砌筑": ("泥瓦工", "砌砖工"),
    "钢筋": ("钢筋工",),
    "木工": ("木工", "木工师傅"),
}
# What postings say about pay and terms, in their own words.
POSTING_TERMS = ("五险一金", "月休四天", "长白班", "两班倒", "加班另计", "包工作餐", "免费培训")

EDUCATION = Weighted(
    (EducationLevel.NONE, 1),
    (EducationLevel.PRIMARY, 13),
    (EducationLevel.JUNIOR_SECONDARY, 52),
    (EducationLevel.SENIOR_SECONDARY, 13),
    (EducationLevel.VOCATIONAL, 8),
    (EducationLevel.JUNIOR_COLLEGE, 9),
    (EducationLevel.BACHELOR, 4),
)
EMPLOYER_SIZES = Weighted(
    (EmployerSize.MICRO, 30),
    (EmployerSize.SMALL, 40),
    (EmployerSize.MEDIUM, 22),
    (EmployerSize.LARGE, 8),
)
JOB_STATUSES = Weighted(
    (JobStatus.PUBLISHED, 70),
    (JobStatus.CLOSED, 12),
    (JobStatus.EXPIRED, 12),
    (JobStatus.DRAFT, 6),
)
APPLICATION_STATUSES = Weighted(
    (ApplicationStatus.SUBMITTED, 40),
    (ApplicationStatus.SHORTLISTED, 15),
    (ApplicationStatus.REJECTED, 20),
    (ApplicationStatus.HIRED, 15),
    (ApplicationStatus.WITHDRAWN, 10),
)
TRAINING_KINDS = Weighted(
    (TrainingKind.EMPLOYMENT_SKILLS, 50),
    (TrainingKind.JOB_SKILLS_IMPROVEMENT, 40),
    (TrainingKind.ENTREPRENEURSHIP, 10),
)
TRAINING_MODES = Weighted(
    (TrainingMode.ORDER_BASED, 35), (TrainingMode.TARGETED, 30), (TrainingMode.PROJECT_BASED, 35)
)
KIND_LABELS = {
    TrainingKind.EMPLOYMENT_SKILLS: "就业技能培训班",
    TrainingKind.JOB_SKILLS_IMPROVEMENT: "岗位技能提升培训班",
}
CONTRIBUTION_STATUSES = Weighted(
    (ContributionStatus.PAID, 93),
    (ContributionStatus.BACK_PAID, 4),
    (ContributionStatus.ARREARS, 3),
)
SKILL_COUNTS = Weighted((0, 25), (1, 40), (2, 25), (3, 10))
INTENTION_COUNTS = Weighted((0, 30), (1, 50), (2, 20))
SURVEY_COUNTS = Weighted((0, 40), (1, 35), (2, 17), (3, 8))  # skill surveys (摸底) per worker
SERVICE_POINTS = ("街道就业服务站", "乡镇劳动保障所", "社区就业服务站", "零工市场服务站")
TRAINING_NEEDS = (
    "想学电工，考低压电工证", "焊工技能提升", "育婴员、养老护理培训", "电商直播带货",
    "叉车证", "数控车床操作", "家政服务培训", "创业培训（开小店）",
)

# Employer and personal shares of the contribution base, in basis points.
EMPLOYEE_RATES = {
    InsuranceType.PENSION: (1600, 800),
    InsuranceType.MEDICAL: (800, 200),
    InsuranceType.UNEMPLOYMENT: (50, 50),
    InsuranceType.WORK_INJURY: (40, 0),
    InsuranceType.MATERNITY: (80, 0),
}
# Flexible employment (no employer): the worker pays pension and medical insurance alone.
FLEXIBLE_RATES = {InsuranceType.PENSION: (0, 2000), InsuranceType.MEDICAL: (0, 700)}
BASIC_COVERAGE = (InsuranceType.PENSION, InsuranceType.MEDICAL, InsuranceType.WORK_INJURY)
INSURANCE_MONTHS = 24

# Salary bounds per unit, in cents: lowest minimum, highest minimum, step, widest spread.
SALARY_BOUNDS = {
    SalaryUnit.MONTH: (350_000, 900_000, 10_000, 300_000),
    SalaryUnit.DAY: (15_000, 35_000, 1_000, 10_000),
    SalaryUnit.HOUR: (1_800, 3_500, 100, 1_000),
    SalaryUnit.PIECE: (400, 900, 50, 400),
}
MONTHLY_CAP = 1_200_000


FACTORY = Weighted(
    (EmploymentType.FULL_TIME, 88), (EmploymentType.PART_TIME, 4), (EmploymentType.SEASONAL, 8)
)
CONSTRUCTION = Weighted((EmploymentType.FULL_TIME, 40), (EmploymentType.SEASONAL, 60))
PLATFORM = Weighted(
    (EmploymentType.GIG, 80), (EmploymentType.PART_TIME, 10), (EmploymentType.FULL_TIME, 10)
)
SERVICE = Weighted((EmploymentType.FULL_TIME, 70), (EmploymentType.PART_TIME, 30))
FARM = Weighted((EmploymentType.SEASONAL, 70), (EmploymentType.FULL_TIME, 30))


@dataclass(frozen=True)
class Sector:
    """A kind of employer: its industry, name words, the occupations it hires, how it hires."""

    industry: str
    trades: tuple[str, ...]
    employment: Weighted[EmploymentType]
    lodging: float
    occupations: tuple[str, ...]


# fmt: off
SECTORS = Weighted(
    (Sector("C39", ("电子科技", "电子", "智能科技"), FACTORY, 0.8,
            ("6-25-04-01", "6-25-04-02", "6-31-01-10", "4-02-06-01", "2-02-07-02")), 14),
    (Sector("C38", ("电器", "新能源科技"), FACTORY, 0.8,
            ("6-28-01-01", "6-25-04-01", "6-31-01-03")), 8),
    (Sector("C36", ("汽车零部件", "汽车科技"), FACTORY, 0.7,
            ("6-22-02-01", "6-18-02-04", "6-18-01-07", "6-20-01-01")), 6),
    (Sector("C33", ("五金制品", "金属制品"), FACTORY, 0.7,
            ("6-18-02-04", "6-18-01-01", "6-18-01-02", "6-18-01-04")), 6),
    (Sector("C34", ("机械设备", "智能装备"), FACTORY, 0.6,
            ("6-20-01-01", "6-18-01-07", "2-02-14-01", "6-31-01-03")), 4),
    (Sector("C29", ("塑胶制品", "包装材料"), FACTORY, 0.8, ("6-09-02-03", "6-25-04-02")), 4),
    (Sector("C18", ("服饰", "制衣"), FACTORY, 0.8, ("6-05-01-03",)), 5),
    (Sector("C19", ("鞋业",), FACTORY, 0.8, ("6-07-03-01",)), 3),
    (Sector("C14", ("食品",), FACTORY, 0.6, ("6-02-01-01", "4-02-06-03")), 4),
    (Sector("E47", ("建筑工程", "建设工程"), CONSTRUCTION, 0.9,
            ("6-29-01-01", "6-29-01-03", "6-29-01-04", "6-29-01-05", "2-02-18-02")), 8),
    (Sector("E50", ("装饰工程", "装饰设计工程"), CONSTRUCTION, 0.5,
            ("6-29-02-01", "6-29-03-01", "6-29-03-03")), 4),
    (Sector("G60", ("快递服务", "速递"), SERVICE, 0.4, ("4-02-07-08", "4-02-07-09")), 5),
    (Sector("G59", ("供应链管理", "仓储物流"), FACTORY, 0.6,
            ("4-02-06-01", "4-02-06-03", "6-30-05-03")), 5),
    (Sector("G54", ("运输", "出行服务"), PLATFORM, 0.1,
            ("4-02-02-02", "4-02-02-03", "4-02-02-01")), 3),
    (Sector("I", ("网络科技", "信息技术"), PLATFORM, 0.0, ("4-02-07-10", "4-04-05-05")), 4),
    (Sector("H62", ("餐饮管理",), SERVICE, 0.7, ("4-03-02-01", "4-03-02-02", "4-03-02-05")), 6),
    (Sector("H61", ("酒店管理",), SERVICE, 0.6, ("4-03-01-01", "4-03-01-02")), 3),
    (Sector("O801", ("家政服务",), SERVICE, 0.3,
            ("4-10-01-06", "4-10-01-01", "4-10-01-05", "4-09-07-01")), 6),
    (Sector("O81", ("汽车服务", "家电维修"), SERVICE, 0.3, ("4-12-01-01", "4-12-02-02")), 2),
    (Sector("Q", ("养老服务", "健康管理"), SERVICE, 0.6, ("4-10-01-05", "4-14-01-02")), 3),
    (Sector("K", ("物业服务", "物业管理"), SERVICE, 0.4,
            ("4-06-01-01", "4-07-05-01", "4-09-07-01")), 4),
    (Sector("A", ("农业科技", "农业发展"), FARM, 0.7,
            ("5-01-01-01", "5-01-02-02", "5-05-01-01", "5-03-01-01")), 2),
)
# fmt: on
ORIGIN_PROVINCES = ("410000", "510000")
DESTINATION_PROVINCES = Weighted(("440000", 55), ("110000", 15), ("510000", 15), ("410000", 15))
