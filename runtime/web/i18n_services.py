"""The words of the bundle and policy pages (一件事一次办, 政策通), merged into
:data:`runtime.web.i18n.TEXT` (kept apart so the pages' catalogue stays easy to merge)."""

from __future__ import annotations

from typing import Final

SERVICES_TEXT: Final[dict[str, tuple[str, str]]] = {
    # a bundle's guide and form
    "bundle.guide": ("一件事办事指南", "One-stop guide"),
    "bundle.apply": ("一次办理全部事项", "Apply for all at once"),
    "bundle.intro": (
        "填写一张表、上传一次材料，即同时申请以下 {count} 个事项。",
        "Fill in one form and upload each material once to apply for these {count} "
        "services at once.",
    ),
    "bundle.members": ("包含的事项", "Services included"),
    "bundle.member": ("事项", "Service"),
    "bundle.own_clock": (
        "提交后每个事项各有受理编号，分别办理、分别计算时限。",
        "Each service gets its own application number, is handled on its own and has its "
        "own time limit.",
    ),
    "bundle.materials": ("合并后的申请材料", "Materials, combined"),
    "bundle.materials_once": (
        "多个事项都需要的材料只需上传一次。",
        "A material several services need is uploaded once.",
    ),
    "bundle.for_members": ("用于事项", "Used for"),
    "bundle.form": ("一件事合并申请表", "Combined application form"),
    "bundle.form_intro": ("本表同时用于：{names}", "This form applies for: {names}"),
    "bundle.filed_title": ("一件事已提交", "Bundle filed"),
    "bundle.filed_lead": (
        "已于 {at} 同时提交 {count} 个事项的申请。",
        "{count} applications were filed together on {at}.",
    ),
    "bundle.filed_members": ("各事项受理编号与办理时限", "Each service's number and due date"),
    "staff.bundle_note": (
        "本件与下列事项同时申请，各自受理、各自计时。",
        "Filed together with the applications below; each is handled and timed on its own.",
    ),
    "bundle.promised": ("受理后 {limit}内办结", "Within {limit} of acceptance"),
    "bundle.filed_keep": (
        "请记下各事项的受理编号，以便查询办理进度。",
        "Keep the application numbers to follow each service's progress.",
    ),
    "me.bundles": ("一件事", "One-stop bundles"),
    "me.all": ("全部办件", "All applications"),
    "me.in_bundle": ("一件事", "Bundle"),
    "me.policy_news": (
        "您有 {count} 条惠企政策推送未读，点击查看",
        "{count} policies sent to you are unread: see them",
    ),
    # policies
    "policies.title": ("{region}惠企政策", "{region} policies for businesses"),
    "policies.intro": (
        "以下政策当前有效。填写企业信息即可查看您符合哪些政策、哪些条件尚未满足，并在线申领。",
        "These policies are in force. Fill in your enterprise's details to see which ones "
        "you qualify for and which conditions are not yet met, then claim online.",
    ),
    "policies.fill_link": ("填写企业信息，匹配政策", "Fill in your details to match policies"),
    "policies.in_force": ("有效政策", "Policies in force"),
    "policies.none": ("本地区暂无有效政策。", "No policy is in force here."),
    "policies.matched_note": (
        "共 {total} 项政策，您符合其中 {count} 项。",
        "You qualify for {count} of {total} policies.",
    ),
    "policies.eligible": ("符合条件", "You qualify"),
    "policies.not_eligible": ("不符合条件", "You do not qualify"),
    "policies.maybe": ("信息不全，尚不能确定", "Not enough information yet"),
    "policies.benefit": ("扶持内容", "Benefit"),
    "policies.issuer": ("发布单位", "Issued by"),
    "policies.valid": ("有效期", "Valid"),
    "policies.valid_range": ("{start} 至 {end}", "{start} to {end}"),
    "policies.audience": ("适用对象", "For"),
    "policies.apply_through": ("申领事项", "Claimed through"),
    "policies.conditions": ("申领条件", "Conditions"),
    "policies.held": ("符合", "Met"),
    "policies.not_held": ("不符合", "Not met"),
    "policies.undecided": ("未确定", "Undecided"),
    "policies.claim": ("在线申领", "Claim online"),
    "policies.claim_notice": (
        "申领政策：{name}。已根据您保存的企业信息预先填写，请核对并补充。",
        "Claiming {name}: filled in from your saved enterprise details; check and complete it.",
    ),
    "policies.claim_no_profile": (
        "申领“{name}”需要先保存企业信息，系统据此判断是否符合条件并预先填写申请表。",
        "To claim {name}, first save your enterprise details: they decide whether you qualify "
        "and fill in the application.",
    ),
    "policies.claim_not_eligible": (
        "根据您保存的企业信息，暂不符合“{name}”的申请条件。请核对企业信息，逐条查看下方的匹配结果。",
        "By your saved enterprise details you do not yet meet the conditions of {name}. Check "
        "your details and the matching results below, condition by condition.",
    ),
    "policies.claim_already": (
        "您已申领“{name}”，正在办理或已兑现，请在“我的办件”中查看。",
        "You have already claimed {name} (in progress or granted): see My applications.",
    ),
    "policies.claim_not_in_force": (
        "“{name}”在本地区未生效，暂不能申领。",
        "{name} is not in force in this region and cannot be claimed.",
    ),
    "policies.profile": ("企业信息", "Your enterprise"),
    "policies.profile_hint": (
        "只填您知道的内容即可；未填写的项目在匹配结果中显示为“未确定”。",
        "Fill in what you know; conditions on what you leave blank show as undecided.",
    ),
    "policies.match": ("匹配政策", "Match policies"),
    "policies.save": ("保存并匹配", "Save and match"),
    "policies.saved": (
        "企业信息已保存，以下为匹配结果。有新政策时我们会通知您。",
        "Your details are saved; here are your matches. You will be told of new policies.",
    ),
    "policies.sign_in_hint": (
        "登录后可保存企业信息、接收政策推送并在线申领。",
        "Sign in to save your details, receive policies and claim online.",
    ),
    "policies.notifications": ("政策推送", "Policies sent to you"),
    "policies.unread": ("{count} 条未读", "{count} unread"),
    "policies.sent_at": ("推送时间 {at}", "Sent {at}"),
    "policies.read": ("已读", "Read"),
    "policies.mark_read": ("标为已读", "Mark as read"),
    # staff: policy supervision and delivery
    "spol.title": ("政策督查", "Policy supervision"),
    "spol.intro": (
        "按政策统计匹配、送达、申领、兑现的企业数和申领人的满意度（您所辖地区）。",
        "Per policy: enterprises matched, notified, claiming and granted, and claimants' "
        "satisfaction, in your regions.",
    ),
    "spol.policy": ("政策", "Policy"),
    "spol.matched": ("匹配企业", "Matched"),
    "spol.notified": ("已送达", "Notified"),
    "spol.claimed": ("已申领", "Claimed"),
    "spol.granted": ("已兑现", "Granted"),
    "spol.deliver_col": ("精准送达", "Delivery"),
    "spol.deliver": ("精准送达", "Deliver"),
    "spol.not_issuer": ("仅发布地区可送达", "Issuing region only"),
    "spol.delivered": (
        "“{name}”已送达：比对 {profiles} 家企业，符合条件 {eligible} 家，新送达 {notified} 家。",
        "{name} delivered: {profiles} enterprises checked, {eligible} qualify, {notified} "
        "newly notified.",
    ),
    "spol.notes": (
        "匹配企业为最近一次送达时符合条件的企业数；重复送达不会重复通知同一企业。",
        "Matched counts the enterprises that qualified at the latest delivery; delivering "
        "again never notifies an enterprise twice.",
    ),
}
